provider "aws" {
  region = var.region

  # Every resource carries the project tag, so the deployment can be found (and costed) as one unit.
  default_tags {
    tags = merge({ project = "modelpin", prefix = var.prefix }, var.tags)
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # One name for the function, its log group and its role, so each can be found from the others.
  function_name = "${var.prefix}-inference"

  # The three buckets, for the settings that every one of them gets (public access block, encryption, ownership).
  bucket_ids = {
    input  = aws_s3_bucket.input.id
    model  = aws_s3_bucket.model.id
    output = aws_s3_bucket.output.id
  }

  # The first pin (the function's MODEL_* variables). After the first apply modelpin owns these variables: it
  # rewrites them on every promotion and publishes a version, and the function ignores later changes here.
  pin_environment = {
    MODEL_BUCKET             = aws_s3_bucket.model.bucket
    MODEL_WEIGHTS_KEY        = var.model_weights_key
    MODEL_LABELS_KEY         = var.model_labels_key
    MODEL_WEIGHTS_VERSION_ID = var.model_weights_version_id
    MODEL_LABELS_VERSION_ID  = var.model_labels_version_id
    MODEL_WEIGHTS_SHA256     = var.model_weights_sha256
    MODEL_LABELS_SHA256      = var.model_labels_sha256
    OUTPUT_BUCKET            = aws_s3_bucket.output.bucket
    OUTPUT_PREFIX            = var.output_prefix
  }
}
