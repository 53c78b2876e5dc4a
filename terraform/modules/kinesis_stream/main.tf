# The Kinesis data stream both relays publish to: one record per event,
# partition key = aggregate id, encrypted with KMS.

data "aws_region" "current" {}

# A dedicated customer managed key unless one is passed in. No key policy is
# written here: the default key policy delegates access to IAM in this account,
# so the relays' roles (which name this key's ARN) are what grants its use.
resource "aws_kms_key" "this" {
  count = var.kms_key_arn == null ? 1 : 0

  description             = "Server-side encryption of Kinesis stream ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = var.kms_key_arn == null ? 1 : 0

  name          = "alias/kinesis/${var.name}"
  target_key_id = aws_kms_key.this[0].key_id
}

locals {
  kms_key_arn = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.this[0].arn
}

resource "aws_kinesis_stream" "this" {
  name             = var.name
  retention_period = var.retention_period_hours

  # shard_count only means something for PROVISIONED streams.
  shard_count = var.stream_mode == "PROVISIONED" ? var.shard_count : null

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  encryption_type = "KMS"
  kms_key_id      = local.kms_key_arn

  shard_level_metrics       = var.shard_level_metrics
  enforce_consumer_deletion = var.enforce_consumer_deletion

  tags = var.tags
}
