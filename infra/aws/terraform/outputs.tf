output "queue_url" {
  description = "--queue-url for manage.py aws_integration"
  value       = aws_sqs_queue.events.id
}

output "dead_letter_queue_url" {
  description = "Events that could not be delivered or processed end up here"
  value       = aws_sqs_queue.dlq.id
}

output "poller_role_arn" {
  description = "--role-arn for manage.py aws_integration"
  value       = aws_iam_role.poller.arn
}
