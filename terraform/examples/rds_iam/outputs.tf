output "database_address" {
  description = "Endpoint of the instance (connect with this name for verify-full)."
  value       = module.database.address
}

output "database_master_secret_arn" {
  description = "Secret of the master password (managed by RDS), for the one-time setup SQL."
  value       = module.database.master_user_secret_arn
}

output "relay_iam_db_user_arn" {
  description = "The one rds-db:connect resource the relay's task role is allowed."
  value       = module.postgres_relay.iam_db_user_arn
}

output "relay_command" {
  description = "The relay's command line."
  value       = module.postgres_relay.relay_command
}

output "kinesis_stream_name" {
  description = "Stream the relay publishes to."
  value       = module.kinesis_stream.stream_name
}
