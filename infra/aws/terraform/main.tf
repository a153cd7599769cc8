# hcserver AWS autoscaling integration: EventBridge rules -> SQS queue (+ DLQ) that
# hcserver polls through a least-privilege role assumed with an external id.
# Same resources as ../cloudformation.yaml; see docs/aws.md.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  retry = {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }
  rules = {
    ec2 = {
      description = "EC2 instance state changes for hcserver"
      pattern = {
        source        = ["aws.ec2"]
        "detail-type" = ["EC2 Instance State-change Notification"]
        detail        = { state = ["running", "shutting-down", "terminated"] }
      }
    }
    autoscaling = {
      description = "Auto Scaling launches, terminations and lifecycle actions for hcserver"
      pattern = {
        source = ["aws.autoscaling"]
        "detail-type" = [
          "EC2 Instance Launch Successful",
          "EC2 Instance Terminate Successful",
          "EC2 Instance Detach Successful",
          "EC2 Instance-launch Lifecycle Action",
          "EC2 Instance-terminate Lifecycle Action",
        ]
      }
    }
  }
  hook_group = var.autoscaling_group_name != "" ? var.autoscaling_group_name : "*"
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-events-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "events" {
  name                       = "${var.name}-events"
  message_retention_seconds  = var.message_retention_seconds
  visibility_timeout_seconds = 120
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = 10
  })
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each      = local.rules
  name          = "${var.name}-${each.key}"
  description   = each.value.description
  event_pattern = jsonencode(each.value.pattern)
}

resource "aws_cloudwatch_event_target" "this" {
  for_each  = local.rules
  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = "hcserver-events-queue"
  arn       = aws_sqs_queue.events.arn
  retry_policy {
    maximum_event_age_in_seconds = local.retry.maximum_event_age_in_seconds
    maximum_retry_attempts       = local.retry.maximum_retry_attempts
  }
  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

data "aws_iam_policy_document" "queue" {
  statement {
    sid       = "EventBridgeRulesOnly"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events.arn, aws_sqs_queue.dlq.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [for rule in aws_cloudwatch_event_rule.this : rule.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events" {
  queue_url = aws_sqs_queue.events.id
  policy    = data.aws_iam_policy_document.queue.json
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.queue.json
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [var.monitoring_principal_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [var.external_id]
    }
  }
}

data "aws_iam_policy_document" "poller" {
  statement {
    sid = "ConsumeEventQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.events.arn]
  }
  statement {
    sid       = "ReadInventory"
    actions   = ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"]
    resources = ["*"] # these Describe actions support no resource-level permissions
  }
  statement {
    sid     = "CompleteLifecycleHooks"
    actions = ["autoscaling:CompleteLifecycleAction"]
    resources = [
      "arn:${data.aws_partition.current.partition}:autoscaling:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*:autoScalingGroupName/${local.hook_group}",
    ]
  }
}

resource "aws_iam_role" "poller" {
  name                 = "${var.name}-poller"
  description          = "Assumed by hcserver to read the event queue and list instances"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "poller" {
  name   = "${var.name}-poller"
  role   = aws_iam_role.poller.id
  policy = data.aws_iam_policy_document.poller.json
}

resource "aws_autoscaling_lifecycle_hook" "launch" {
  count                  = var.autoscaling_group_name != "" ? 1 : 0
  name                   = "hcserver-check-ready"
  autoscaling_group_name = var.autoscaling_group_name
  lifecycle_transition   = "autoscaling:EC2_INSTANCE_LAUNCHING"
  # CONTINUE: an hcserver outage delays a launch by at most 5 minutes, never fails it.
  default_result    = "CONTINUE"
  heartbeat_timeout = 300
}
