# Two roles, each with exactly what it uses: no `*` action and no `*` resource (object and log-stream wildcards stay
# inside one bucket, prefix or log group). Policies are data sources so they read as HCL and are checked by tests.

# ---------------------------------------------------------------------------------------------------------------
# The function's role
# ---------------------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "function_assume" {
  statement {
    sid     = "LambdaService"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = local.function_name
  description        = "Execution role of ${local.function_name}: reads its model and the input images, writes predictions and logs"
  assume_role_policy = data.aws_iam_policy_document.function_assume.json
}

data "aws_iam_policy_document" "function" {
  # The two keys of the model, at any version: the function loads exactly the VersionIds it is pinned to (by its
  # configuration, an event or an input object's metadata), which is GetObjectVersion on these two ARNs.
  statement {
    sid     = "ReadPinnedModelArtifacts"
    actions = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [
      "${aws_s3_bucket.model.arn}/${var.model_weights_key}",
      "${aws_s3_bucket.model.arn}/${var.model_labels_key}",
    ]
  }

  # Images (at the VersionId of the S3 record) and their metadata (an object may pin its own model).
  statement {
    sid       = "ReadInputImages"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.input.arn}/*"]
  }

  # Predictions and error objects, under the output prefix only.
  statement {
    sid       = "WritePredictions"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.output.arn}/${var.output_prefix}*"]
  }

  # Its own log group, created by Terraform (lambda.tf).
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "inference"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

# ---------------------------------------------------------------------------------------------------------------
# The admin API's role
# ---------------------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "admin_api_assume" {
  statement {
    sid     = "AdminApiPrincipals"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.admin_api_principal_arns
    }
  }
}

resource "aws_iam_role" "admin_api" {
  name               = "${var.prefix}-admin-api"
  description        = "modelpin admin API: model versions in ${aws_s3_bucket.model.bucket}, versions and alias of ${local.function_name}"
  assume_role_policy = data.aws_iam_policy_document.admin_api_assume.json
}

data "aws_iam_policy_document" "admin_api" {
  # Listing the versions of the weights and labels (ListObjectVersions) and HeadBucket for readiness.
  statement {
    sid       = "ListModelVersions"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [aws_s3_bucket.model.arn]
  }

  # Reading any version (to hash it for a release), uploading new ones; a large upload is multipart, so an
  # interrupted one must be abortable. No delete: the bucket policy would refuse version deletes anyway.
  statement {
    sid       = "ReadAndUploadModelArtifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.model.arn}/*"]
  }

  # Promote, rollback, canary, predict and reconcile (src/deploy): set the pins on the function, publish a
  # version, move the alias, read back what is live, invoke a version or alias. The function ARN covers the
  # function-level calls; `<arn>:*` covers its versions and aliases (qualified ARNs) and nothing else.
  statement {
    sid = "DeployInferenceFunction"
    actions = [
      "lambda:GetFunction",
      "lambda:GetFunctionConfiguration",
      "lambda:UpdateFunctionConfiguration",
      "lambda:PublishVersion",
      "lambda:ListVersionsByFunction",
      "lambda:GetAlias",
      "lambda:CreateAlias",
      "lambda:UpdateAlias",
      "lambda:ListAliases",
      "lambda:InvokeFunction",
    ]
    resources = [aws_lambda_function.inference.arn, "${aws_lambda_function.inference.arn}:*"]
  }
}

resource "aws_iam_role_policy" "admin_api" {
  name   = "modelpin-admin-api"
  role   = aws_iam_role.admin_api.id
  policy = data.aws_iam_policy_document.admin_api.json
}
