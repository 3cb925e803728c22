# Warm-up: EventBridge invokes the alias once a minute with the warm-up event, so one environment keeps the pinned
# model loaded and the next real image skips the cold load. One minute is EventBridge's minimum rate (the original
# system's 15-second ping could never be scheduled). For more than one warm environment, use
# provisioned_concurrency instead.

resource "aws_cloudwatch_event_rule" "warmup" {
  count = var.warmup_enabled ? 1 : 0

  name                = "${local.function_name}-warmup"
  description         = "Keeps ${local.function_name}:live warm (modelpin warm-up event)"
  schedule_expression = "rate(1 minute)"
}

resource "aws_cloudwatch_event_target" "warmup" {
  count = var.warmup_enabled ? 1 : 0

  rule      = aws_cloudwatch_event_rule.warmup[0].name
  target_id = "warmup-live"
  # The alias, not the function: warming $LATEST would load a pin that nothing serves.
  arn = aws_lambda_alias.live.arn
  # The function's warm-up event: loads the pinned model if needed and runs no image.
  input = "{\"warmup\": true}"
}

resource "aws_lambda_permission" "warmup" {
  count = var.warmup_enabled ? 1 : 0

  statement_id  = "AllowWarmupRuleToInvokeLive"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_alias.live.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.warmup[0].arn
}
