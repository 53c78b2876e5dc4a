output "kinesis_stream_name" {
  description = "Stream both relays publish to."
  value       = module.kinesis_stream.stream_name
}

output "kinesis_stream_arn" {
  description = "ARN of the stream."
  value       = module.kinesis_stream.stream_arn
}

output "archive_bucket_name" {
  description = "Archive bucket."
  value       = module.archive_bucket.bucket_name
}

output "dynamodb_table_name" {
  description = "Table of the DynamoDB path (key Uuid, attribute Events)."
  value       = module.event_source_table.table_name
}

output "dynamodb_relay_function_name" {
  description = "Lambda of the DynamoDB path."
  value       = module.dynamodb_relay.function_name
}

output "dynamodb_relay_on_failure_queue_url" {
  description = "Where batches that kept failing are described."
  value       = module.dynamodb_relay.on_failure_queue_url
}

output "postgres_relay_service_name" {
  description = "ECS service of the PostgreSQL path."
  value       = module.postgres_relay.service_name
}

output "postgres_relay_log_group" {
  description = "Logs of the PostgreSQL relay."
  value       = module.postgres_relay.log_group_name
}
