# The DynamoDB table of the DynamoDB path: one item per aggregate (key "Uuid"),
# attribute "Events" = the aggregate's list of events, appended to with
# list_append. The stream carries NEW_AND_OLD_IMAGES so that the relay can pluck
# the appended tail NewImage.Events[len(OldImage.Events):].

resource "aws_dynamodb_table" "this" {
  name         = var.name
  billing_mode = var.billing_mode
  hash_key     = var.hash_key

  read_capacity  = var.billing_mode == "PROVISIONED" ? var.read_capacity : null
  write_capacity = var.billing_mode == "PROVISIONED" ? var.write_capacity : null

  attribute {
    name = var.hash_key
    type = "S"
  }

  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  # Always encrypted at rest. With kms_key_arn = null DynamoDB uses the AWS
  # managed key aws/dynamodb; pass a customer managed key to control its policy.
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = var.deletion_protection

  tags = var.tags
}
