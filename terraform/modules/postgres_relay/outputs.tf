output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster the service runs in."
  value       = local.cluster_arn
}

output "task_definition_arn" {
  description = "ARN of the task definition (with revision)."
  value       = aws_ecs_task_definition.this.arn
}

output "task_role_arn" {
  description = "ARN of the relay's task role (Kinesis + archive prefix only)."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "ARN of the execution role (image pull, logs, the database secret)."
  value       = aws_iam_role.execution.arn
}

output "security_group_id" {
  description = "Security group of the relay task."
  value       = aws_security_group.this.id
}

output "log_group_name" {
  description = "CloudWatch log group of the relay."
  value       = aws_cloudwatch_log_group.this.name
}

output "relay_command" {
  description = "The relay's command line in the task definition."
  value       = local.command
}

output "iam_db_user_arn" {
  description = "The rds-db:connect resource the task role may connect as (null without iam_database_auth)."
  value       = local.iam_db_user_arn
}

output "lag_alarm_arn" {
  description = "ARN of the relay lag alarm (null without lag_alarm_seconds)."
  value       = local.lag_alarm ? aws_cloudwatch_metric_alarm.lag[0].arn : null
}
