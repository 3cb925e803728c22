# No S3 event is lost: an image whose classification still fails after Lambda's retries lands, with its S3 event,
# in an encrypted queue; an alarm fires while the queue holds anything; README.md says how to replay it.

# One message per failed asynchronous invocation of the live alias (Lambda's on-failure record: `requestContext`
# with the condition, `requestPayload` = the S3 event, `responsePayload` = the last error). Kept 14 days, SQS's
# maximum, so a failure noticed after a long weekend can still be replayed.
resource "aws_sqs_queue" "failed_events" {
  name                      = "${local.function_name}-failed-events"
  message_retention_seconds = 1209600
  # SSE-SQS: encrypted at rest with an SQS-owned key, so the function's role needs no KMS grant to send.
  sqs_managed_sse_enabled = true
}

# Asynchronous invocations of `live` (S3 events, the warm-up rule): Lambda retries a failure twice, then sends the
# record to the queue. The settings are Lambda's defaults, written down so a reader need not look them up. A
# warm-up that fails lands there too (a function with no pin fails its warm-up every minute): that is the alarm's
# point, and the replay skips such records.
resource "aws_lambda_function_event_invoke_config" "live" {
  function_name = aws_lambda_alias.live.function_name
  qualifier     = aws_lambda_alias.live.name

  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failed_events.arn
    }
  }

  # Lambda checks that the execution role may send to the destination when the configuration is written.
  depends_on = [aws_iam_role_policy.function]
}

# Any visible message is an image nobody got a prediction for.
resource "aws_cloudwatch_metric_alarm" "failed_events" {
  alarm_name        = "${local.function_name}-failed-events"
  alarm_description = "S3 events that ${local.function_name}:live failed to process after Lambda's retries wait in ${aws_sqs_queue.failed_events.name}; replay them as infra/README.md says."
  namespace         = "AWS/SQS"
  metric_name       = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.failed_events.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  # SQS publishes the metric only while the queue is active: no data means nothing is waiting.
  treat_missing_data = "notBreaching"
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions
}
