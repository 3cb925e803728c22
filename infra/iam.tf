# Two roles, each with exactly what it uses: no `*` action and no `*` resource (object and log-stream wildcards stay
# inside one bucket, prefix or log group), with one exception AWS imposes: cloudwatch:GetMetricData, which supports
# no resource but `*` (the admin API reads Lambda's metrics for rollouts). Policies are data sources so they read as
# HCL and are checked by tests.

locals {
  # The buckets evaluations read inputs from besides the input bucket (var.evaluation_input_buckets), as ARNs.
  evaluation_bucket_arns = [for name in var.evaluation_input_buckets : "arn:${local.partition}:s3:::${name}"]
  evaluation_object_arns = [for name in var.evaluation_input_buckets : "arn:${local.partition}:s3:::${name}/*"]
}

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

  # Derived optimised graphs of its own weights key (src/inference/optimized-graph.ts): the function reads a graph
  # made for its CPU and runtime, and writes one after a load from the weights. That prefix is the only place in the
  # model bucket it may write; the weights and labels stay read-only. A missing graph answers 403 here (no listing
  # under this prefix), which the loader treats as missing.
  statement {
    sid       = "ReadWriteOptimizedGraphs"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.model.arn}/modelpin-optimized/${var.model_weights_key}/*"]
  }

  # Without s3:ListBucket, S3 answers a GetObject of a missing key or VersionId with AccessDenied, and the handler
  # could not tell an unknown version (VersionNotFoundError, a bad pin) from a broken role. Listing is allowed for
  # the two model keys only: S3 decides between 403 and 404 with the requested key as s3:prefix (as radosgw now
  # mirrors: ceph/ceph pull request 68577), and ListObjectVersions on exactly those keys is all a listing may ask.
  statement {
    sid       = "ListModelKeyVersions"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [aws_s3_bucket.model.arn]

    condition {
      test     = "StringEquals"
      variable = "s3:prefix"
      values   = [var.model_weights_key, var.model_labels_key]
    }
  }

  # Images (at the VersionId of the S3 record) and their metadata (an object may pin its own model).
  statement {
    sid       = "ReadInputImages"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.input.arn}/*"]
  }

  # Evaluations invoke the function on images in these buckets (direct events naming bucket, key and VersionId).
  # No statement at all when there are none: a statement with no resource is not a valid policy.
  dynamic "statement" {
    for_each = length(var.evaluation_input_buckets) > 0 ? ["ReadEvaluationInputs"] : []

    content {
      sid       = statement.value
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = local.evaluation_object_arns
    }
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

  # Lambda sends the on-failure record of an asynchronous invocation with the function's role (failures.tf).
  statement {
    sid       = "SendFailedEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failed_events.arn]
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

  # Evaluations list the objects under a prefix of the bucket they read inputs from (and HeadBucket, to answer
  # bucket_not_found): the input bucket, where the pipeline's real images land, and var.evaluation_input_buckets.
  # The function reads the objects themselves; the admin API only lists.
  statement {
    sid       = "ListEvaluationInputs"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.input.arn]
  }

  dynamic "statement" {
    for_each = length(var.evaluation_input_buckets) > 0 ? ["ListOtherEvaluationInputs"] : []

    content {
      sid       = statement.value
      actions   = ["s3:ListBucket"]
      resources = local.evaluation_bucket_arns
    }
  }

  # Rollouts judge each canary step by the function's Invocations, Errors and Duration per version. GetMetricData
  # supports no resource-level permission, so `*` is the only resource it takes (the one exception to the rule at
  # the top of this file); it reads metrics and nothing else.
  statement {
    sid       = "ReadFunctionMetrics"
    actions   = ["cloudwatch:GetMetricData"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "admin_api" {
  name   = "modelpin-admin-api"
  role   = aws_iam_role.admin_api.id
  policy = data.aws_iam_policy_document.admin_api.json
}
