# Versions. Provider 5.x is the line these files were written against (argument names checked against its
# documentation); the pin keeps a `terraform init -upgrade` from silently moving to 6.x, whose renamed attributes
# (for example `aws_region.name`) would change plans. 1.5 is the oldest Terraform with everything used here.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
  }
}
