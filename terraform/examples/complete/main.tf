# Both capture paths into one Kinesis stream and one S3 archive:
#
#   PostgreSQL 15 + extension --slot--> eventrelay on ECS Fargate ---+--> Kinesis (KMS)
#                                                                      +--> S3 archive
#   DynamoDB table --stream--> eventrelay Lambda (provided.al2023) -------> Kinesis (KMS)
#
# The database, its VPC and the relay image are inputs: this example creates
# only what the product adds. The database must be a PostgreSQL you can install
# the eventstore extension (a C extension + output plugin) into: self-managed on
# EC2, on premises or in Kubernetes. RDS and Aurora do not load custom C
# extensions (see docs/deploy.md).

module "kinesis_stream" {
  source = "../../modules/kinesis_stream"

  name                   = "${var.name}-events"
  stream_mode            = var.kinesis_stream_mode
  shard_count            = var.kinesis_shard_count
  retention_period_hours = var.kinesis_retention_hours
}

module "archive_bucket" {
  source = "../../modules/archive_bucket"

  bucket_name     = var.archive_bucket_name
  archive_prefix  = var.archive_prefix
  expiration_days = var.archive_expiration_days
}

module "event_source_table" {
  source = "../../modules/event_source_table"

  name                = "${var.name}-aggregates"
  deletion_protection = var.deletion_protection
}

module "dynamodb_relay" {
  source = "../../modules/dynamodb_relay"

  function_name       = "${var.name}-dynamodb-relay"
  zip_path            = var.lambda_zip_path
  architecture        = var.lambda_architecture
  table_stream_arn    = module.event_source_table.stream_arn
  kinesis_stream_arn  = module.kinesis_stream.stream_arn
  kinesis_kms_key_arn = module.kinesis_stream.kms_key_arn
  aggregate_type      = "cart"

  dead_letter_bucket_arn  = module.archive_bucket.bucket_arn
  dead_letter_kms_key_arn = module.archive_bucket.kms_key_arn
}

module "postgres_relay" {
  source = "../../modules/postgres_relay"

  name                        = "${var.name}-postgres-relay"
  image                       = var.relay_image
  vpc_id                      = var.vpc_id
  subnet_ids                  = var.subnet_ids
  database_security_group_id  = var.database_security_group_id
  database_secret_arn         = var.database_secret_arn
  database_secret_kms_key_arn = var.database_secret_kms_key_arn
  kinesis_stream_arn          = module.kinesis_stream.stream_arn
  kinesis_kms_key_arn         = module.kinesis_stream.kms_key_arn
  archive_bucket_arn          = module.archive_bucket.bucket_arn
  archive_prefix              = module.archive_bucket.archive_prefix
  archive_kms_key_arn         = module.archive_bucket.kms_key_arn
  ecr_repository_arn          = var.ecr_repository_arn
  execution_role_policy_arns  = var.execution_role_policy_arns
}
