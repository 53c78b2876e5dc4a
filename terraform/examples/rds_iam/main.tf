# The PostgreSQL path on Amazon RDS, with IAM database authentication:
#
#   RDS for PostgreSQL (rds_postgres: logical replication, pg_tle, TLS only)
#     --pgoutput slot, TLS verify-full, IAM token--> eventrelay on ECS Fargate --> Kinesis (KMS)
#
# No database password anywhere: the relay's task role may rds-db:connect as
# exactly the relay's role of exactly this instance, and the relay signs a
# fresh token for every connection (--rds-iam-auth, docs/rds-iam.md). The
# one-time SQL (the role, its grants, the publication, the extension's SQL
# flavour) is in docs/rds-iam.md and docs/managed-postgres.md. The VPC and
# the relay image (with the RDS CA bundle at relay_ca_bundle_path) are inputs.

module "database" {
  source = "../../modules/rds_postgres"

  identifier          = "${var.name}-db"
  engine_version      = var.engine_version
  instance_class      = var.instance_class
  database_name       = var.database_name
  vpc_id              = var.vpc_id
  subnet_ids          = var.subnet_ids
  relay_db_user       = var.relay_db_user
  deletion_protection = var.deletion_protection
}

module "kinesis_stream" {
  source = "../../modules/kinesis_stream"

  name        = "${var.name}-events"
  stream_mode = "ON_DEMAND"
}

module "postgres_relay" {
  source = "../../modules/postgres_relay"

  name                       = "${var.name}-postgres-relay"
  image                      = var.relay_image
  vpc_id                     = var.vpc_id
  subnet_ids                 = var.subnet_ids
  database_security_group_id = module.database.security_group_id
  database_port              = module.database.port
  kinesis_stream_arn         = module.kinesis_stream.stream_arn
  kinesis_kms_key_arn        = module.kinesis_stream.kms_key_arn
  ecr_repository_arn         = var.ecr_repository_arn
  execution_role_policy_arns = var.execution_role_policy_arns

  # No secret: the endpoint is known, the password is an IAM token.
  database_host  = module.database.address
  database_name  = module.database.database_name
  pg_sslmode     = "verify-full"
  pg_sslrootcert = var.relay_ca_bundle_path
  iam_database_auth = {
    resource_id = module.database.resource_id
    db_user     = var.relay_db_user
  }

  extra_args = var.relay_extra_args
}
