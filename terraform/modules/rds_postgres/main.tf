# An RDS for PostgreSQL instance prepared for the event store: logical
# replication on (the relay streams with pgoutput, or the plugin where it can
# be loaded), pg_tle preloaded (the SQL flavour of the extension, see
# sql/managed/ and docs/managed-postgres.md), a bound on the WAL a stalled
# slot may pin, TLS forced, and IAM database authentication for the relay
# (postgres_relay's iam_database_auth, see docs/rds-iam.md).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  major  = split(".", var.engine_version)[0]
  family = "postgres${local.major}"

  # Static parameters take effect at the next reboot (apply_method
  # pending-reboot, as RDS requires); dynamic ones at once.
  parameters = merge(
    {
      # wal_level = logical, and the rds_replication role may use slots
      "rds.logical_replication" = { value = "1", apply_method = "pending-reboot" }
      # pg_tle for the SQL flavour; pg_stat_statements is RDS's own default
      "shared_preload_libraries" = { value = join(",", distinct(concat(["pg_tle"], var.preload_libraries))), apply_method = "pending-reboot" }
      # a slot nobody reads may hold at most this much WAL (MB) before it is invalidated
      "max_slot_wal_keep_size" = { value = tostring(var.max_slot_wal_keep_size_mb), apply_method = "immediate" }
      # IAM tokens are passwords: no unencrypted connection at all
      "rds.force_ssl" = { value = "1", apply_method = "immediate" }
    },
    { for k, v in var.extra_parameters : k => { value = v, apply_method = "pending-reboot" } },
  )
}

resource "aws_db_parameter_group" "this" {
  name        = "${var.identifier}-eventstore"
  family      = local.family
  description = "eventstore: logical replication, pg_tle, bounded slot WAL, TLS only"

  dynamic "parameter" {
    for_each = local.parameters
    content {
      name         = parameter.key
      value        = parameter.value.value
      apply_method = parameter.value.apply_method
    }
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_subnet_group" "this" {
  name       = var.identifier
  subnet_ids = var.subnet_ids

  tags = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.identifier}-db"
  description = "PostgreSQL ${var.identifier}: clients are allowed in by their own modules (postgres_relay) or allowed_security_group_ids"
  vpc_id      = var.vpc_id

  tags = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each = toset(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL clients"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = each.value
}

resource "aws_db_instance" "this" {
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class
  port           = var.port
  db_name        = var.database_name

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  # The master password lives in Secrets Manager, managed by RDS: never in
  # the Terraform state or code.
  username                      = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  # The relay logs in with a token signed by its task role (rds-db:connect).
  iam_database_authentication_enabled = true

  parameter_group_name   = aws_db_parameter_group.this.name
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = concat([aws_security_group.this.id], var.additional_security_group_ids)
  publicly_accessible    = false
  multi_az               = var.multi_az
  ca_cert_identifier     = var.ca_cert_identifier

  backup_retention_period   = var.backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.identifier}-final"

  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately

  performance_insights_enabled    = true
  performance_insights_kms_key_id = var.kms_key_arn
  enabled_cloudwatch_logs_exports = ["postgresql"]

  tags = var.tags
}
