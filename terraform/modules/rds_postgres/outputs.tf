output "address" {
  description = "Host name of the instance endpoint (the name its certificate carries: connect with it for verify-full)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "The database created with the instance."
  value       = aws_db_instance.this.db_name
}

output "resource_id" {
  description = "DbiResourceId (db-...): the resource part of rds-db:connect ARNs (postgres_relay's iam_database_auth.resource_id)."
  value       = aws_db_instance.this.resource_id
}

output "iam_db_user_arn" {
  description = "arn:...:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/relay_db_user, the resource an IAM policy allows rds-db:connect on."
  value       = "arn:${data.aws_partition.current.partition}:rds-db:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:dbuser:${aws_db_instance.this.resource_id}/${var.relay_db_user}"
}

output "instance_arn" {
  description = "ARN of the instance."
  value       = aws_db_instance.this.arn
}

output "security_group_id" {
  description = "Security group of the instance (give it to postgres_relay as database_security_group_id)."
  value       = aws_security_group.this.id
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret of the master password (managed by RDS), for the one-time setup SQL."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "parameter_group_name" {
  description = "The parameter group (rds.logical_replication, pg_tle, max_slot_wal_keep_size, rds.force_ssl)."
  value       = aws_db_parameter_group.this.name
}
