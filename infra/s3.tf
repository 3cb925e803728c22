# The three buckets of the pipeline: images land in input, the function reads its model from model and writes
# predictions to output. Names come from the prefix; none is ever public; all are encrypted at rest and refuse plain
# HTTP.

resource "aws_s3_bucket" "input" {
  bucket = "${var.prefix}-input"
}

resource "aws_s3_bucket" "model" {
  bucket = "${var.prefix}-models"
  # Never empty this bucket from Terraform: a release is only as good as the object versions it pins.
  force_destroy = false
}

resource "aws_s3_bucket" "output" {
  bucket = "${var.prefix}-output"
}

resource "aws_s3_bucket_public_access_block" "all" {
  for_each = local.bucket_ids
  bucket   = each.value

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs off: the bucket owner owns every object, so access is decided by IAM and bucket policies alone.
resource "aws_s3_bucket_ownership_controls" "all" {
  for_each = local.bucket_ids
  bucket   = each.value

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# SSE-S3 rather than KMS: no key policy to keep in step with the two roles, and no KMS request per model load.
resource "aws_s3_bucket_server_side_encryption_configuration" "all" {
  for_each = local.bucket_ids
  bucket   = each.value

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Versioning is what modelpin is built on: every upload of weights or labels is a new VersionId that a release can
# pin, and "latest" is never read.
resource "aws_s3_bucket_versioning" "model" {
  bucket = aws_s3_bucket.model.id

  versioning_configuration {
    status = "Enabled"
  }
}

# Abandoned multipart uploads (an interrupted upload through the admin API) are cleaned up. There is deliberately no
# expiration of noncurrent versions of the model's objects: an old version may be the rollback target. The one
# exception is the derived optimised graphs the function writes under modelpin-optimized/ (never a rollback target,
# rewritten whenever one cannot be used): a replaced graph is expired a day later.
resource "aws_s3_bucket_lifecycle_configuration" "model" {
  bucket = aws_s3_bucket.model.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "expire-replaced-optimized-graphs"
    status = "Enabled"

    filter {
      prefix = "modelpin-optimized/"
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.model]
}

# Kept versions are protected from accidental deletion: nobody but the root user and the break-glass principals may
# delete an object version, suspend versioning or replace the lifecycle (an expiration rule would delete versions
# too). Deleting an object without a VersionId stays allowed: it only adds a delete marker, every version survives.
data "aws_iam_policy_document" "model_bucket" {
  statement {
    sid       = "ProtectModelVersions"
    effect    = "Deny"
    actions   = ["s3:DeleteObjectVersion", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"]
    resources = [aws_s3_bucket.model.arn, "${aws_s3_bucket.model.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = concat(["arn:${local.partition}:iam::${local.account_id}:root"], var.model_bucket_break_glass_principal_arns)
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.model.arn, "${aws_s3_bucket.model.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "model" {
  bucket = aws_s3_bucket.model.id
  policy = data.aws_iam_policy_document.model_bucket.json

  # The policy forbids changing versioning and lifecycle, so both are set before it lands; S3 also rejects a policy
  # written while the public access block is being written.
  depends_on = [
    aws_s3_bucket_versioning.model,
    aws_s3_bucket_lifecycle_configuration.model,
    aws_s3_bucket_public_access_block.all,
  ]
}

# The input and output buckets refuse plain HTTP too (the model bucket's policy above does the same), so no image
# or prediction ever crosses the network unencrypted, whichever client or role asks.
data "aws_iam_policy_document" "input_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.input.arn, "${aws_s3_bucket.input.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "input" {
  bucket = aws_s3_bucket.input.id
  policy = data.aws_iam_policy_document.input_bucket.json

  # S3 rejects a policy written while the public access block is being written.
  depends_on = [aws_s3_bucket_public_access_block.all]
}

data "aws_iam_policy_document" "output_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.output.arn, "${aws_s3_bucket.output.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "output" {
  bucket = aws_s3_bucket.output.id
  policy = data.aws_iam_policy_document.output_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.all]
}
