# The repository the function image is pushed to (from lambda/Dockerfile; see README.md, "Deploy to AWS").
resource "aws_ecr_repository" "function" {
  name = local.function_name
  # Mutable so the documented `:latest` flow works; Lambda pins the digest a tag pointed to when the function (or
  # a published version) was created, so moving a tag never changes what a published version runs.
  image_tag_mutability = "MUTABLE"
  # A repository with images in it is not destroyed by accident.
  force_delete = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

# No lifecycle policy on purpose: every published Lambda version runs the image digest it was published with, and
# a rollback to a release moves the alias back to that version. Expiring old images (even untagged ones, which is
# what a tag becomes after a re-push) would break exactly those rollbacks.
