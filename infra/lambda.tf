# The inference function, its log group, the alias `live` that everything targets, and the input bucket's trigger.

# Created before the function, under the name Lambda logs to, so its retention applies from the first line. The
# function's role may write streams in this group only (it has no logs:CreateLogGroup).
resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "inference" {
  function_name = local.function_name
  description   = "modelpin inference: classifies images with the ONNX model pinned by S3 VersionId"
  role          = aws_iam_role.function.arn

  package_type = "Image"
  # By digest (the variable's validation insists), so the code a published version runs is one exact image.
  image_uri = var.image_uri
  # The image installs onnxruntime-node's and sharp's prebuilt linux-x64 binaries.
  architectures = ["x86_64"]

  memory_size = var.memory_size
  timeout     = var.timeout

  # Version 1 is published with the first pin, so the alias has a numbered version to point at from the start
  # (never $LATEST, whose configuration modelpin rewrites before each publish).
  publish = true

  environment {
    # The pins come last so an extra variable can never shadow them.
    variables = merge(var.function_environment, local.pin_environment)
  }

  depends_on = [
    aws_cloudwatch_log_group.function,
    aws_iam_role_policy.function,
  ]

  lifecycle {
    # modelpin rewrites the pins on every promotion; a routine apply must not put the first pin back.
    ignore_changes = [environment]

    # image_uri may be empty only for the first step of the first apply (-target, before any image exists).
    precondition {
      condition     = var.image_uri != ""
      error_message = "image_uri is empty: push the image and pass its digest, -var image_uri=<repository_url>@sha256:<digest> (infra/README.md, step 3)."
    }
  }
}

# The alias that the S3 trigger, the warm-up rule and modelpin's `functionAlias` (default `live`) all use. modelpin
# moves it to the version published for the promoted release, and sets its weights for a canary.
resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "What serves: moved by modelpin on promote, rollback and canary"
  function_name    = aws_lambda_function.inference.function_name
  function_version = aws_lambda_function.inference.version

  lifecycle {
    # Without this, the next apply would move production back to the version Terraform last published.
    ignore_changes = [function_version, routing_config]
  }
}

# The alternative to the warm-up rule: environments kept initialised on the alias. Lambda re-provisions them on the
# new version whenever modelpin moves the alias.
resource "aws_lambda_provisioned_concurrency_config" "live" {
  count = var.provisioned_concurrency > 0 ? 1 : 0

  function_name                     = aws_lambda_alias.live.function_name
  qualifier                         = aws_lambda_alias.live.name
  provisioned_concurrent_executions = var.provisioned_concurrency
}

# S3 may invoke the alias (only the alias: the permission is on that qualifier), for this bucket in this account
# (source_account guards against a bucket of the same name re-created in another account).
resource "aws_lambda_permission" "input_bucket" {
  statement_id   = "AllowInputBucketToInvokeLive"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_alias.live.function_name
  qualifier      = aws_lambda_alias.live.name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.input.arn
  source_account = local.account_id
}

# Every new image in the input bucket invokes the alias (asynchronously, so Lambda retries transient failures).
resource "aws_s3_bucket_notification" "input" {
  bucket = aws_s3_bucket.input.id

  lambda_function {
    id                  = "classify-new-images"
    lambda_function_arn = aws_lambda_alias.live.arn
    events              = ["s3:ObjectCreated:*"]
  }

  # S3 checks that it may invoke the target when the notification is written.
  depends_on = [aws_lambda_permission.input_bucket]
}
