# What the admin API, the CLI and the deploy steps in README.md read back (`terraform output -raw <name>`).

output "region" {
  description = "AWS region of everything here: the admin API's AWS_REGION."
  value       = var.region
}

output "input_bucket" {
  description = "Bucket whose new objects are classified (notifies the live alias)."
  value       = aws_s3_bucket.input.bucket
}

output "model_bucket" {
  description = "Versioned bucket of the weights and labels: the model's `bucket` in the registry."
  value       = aws_s3_bucket.model.bucket
}

output "output_bucket" {
  description = "Bucket the function writes predictions and error objects to."
  value       = aws_s3_bucket.output.bucket
}

output "output_prefix" {
  description = "Key prefix of the prediction objects in the output bucket."
  value       = var.output_prefix
}

output "model_weights_key" {
  description = "Key of the weights in the model bucket: the model's `weightsKey` in the registry."
  value       = var.model_weights_key
}

output "model_labels_key" {
  description = "Key of the labels in the model bucket: the model's `labelsKey` in the registry."
  value       = var.model_labels_key
}

output "function_name" {
  description = "Name of the inference function: the model's `functionName` in the registry."
  value       = aws_lambda_function.inference.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the inference function."
  value       = aws_lambda_function.inference.arn
}

output "alias_name" {
  description = "Lambda alias that serves (the model's `functionAlias` in the registry)."
  value       = aws_lambda_alias.live.name
}

output "alias_arn" {
  description = "ARN of the live alias: what S3 and the warm-up rule invoke."
  value       = aws_lambda_alias.live.arn
}

output "ecr_repository_url" {
  description = "ECR repository to push the function image to (docker tag/push target)."
  value       = aws_ecr_repository.function.repository_url
}

output "image_uri" {
  description = "Image (by digest) the function was last updated with."
  value       = var.image_uri
}

output "failed_events_queue_url" {
  description = "SQS queue of the asynchronous invocations (S3 events) that failed after Lambda's retries: what the replay in README.md reads."
  value       = aws_sqs_queue.failed_events.url
}

output "failed_events_queue_arn" {
  description = "ARN of the failed-events queue."
  value       = aws_sqs_queue.failed_events.arn
}

output "failed_events_alarm_name" {
  description = "CloudWatch alarm that fires while the failed-events queue holds a message."
  value       = aws_cloudwatch_metric_alarm.failed_events.alarm_name
}

output "admin_api_role_arn" {
  description = "Role the admin API assumes (role_arn of its AWS profile)."
  value       = aws_iam_role.admin_api.arn
}

output "function_role_arn" {
  description = "Execution role of the inference function."
  value       = aws_iam_role.function.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the inference function."
  value       = aws_cloudwatch_log_group.function.name
}

output "model_registration" {
  description = "Body of POST /v1/models that registers this deployment's model with the admin API."
  value = {
    name          = var.model_name
    bucket        = aws_s3_bucket.model.bucket
    weightsKey    = var.model_weights_key
    labelsKey     = var.model_labels_key
    functionName  = aws_lambda_function.inference.function_name
    functionAlias = aws_lambda_alias.live.name
  }
}
