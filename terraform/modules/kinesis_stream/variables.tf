variable "name" {
  description = "Name of the Kinesis data stream."
  type        = string
}

variable "stream_mode" {
  description = "ON_DEMAND (scales by itself) or PROVISIONED (fixed shard_count)."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "shard_count" {
  description = "Number of shards (only with stream_mode = PROVISIONED)."
  type        = number
  default     = 1

  validation {
    condition     = var.shard_count >= 1
    error_message = "shard_count must be at least 1."
  }
}

variable "retention_period_hours" {
  description = "How long records stay readable, in hours (24 to 8760). The S3 archive keeps them for longer."
  type        = number
  default     = 24

  validation {
    condition     = var.retention_period_hours >= 24 && var.retention_period_hours <= 8760
    error_message = "retention_period_hours must be between 24 and 8760."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for server-side encryption; null = create a dedicated key with rotation. (The AWS managed alias/aws/kinesis is not used because its ARN cannot be named in IAM policies ahead of time.)"
  type        = string
  default     = null
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before a created KMS key is deleted."
  type        = number
  default     = 30
}

variable "shard_level_metrics" {
  description = "Enhanced shard-level CloudWatch metrics, e.g. [\"IncomingRecords\", \"WriteProvisionedThroughputExceeded\"]."
  type        = list(string)
  default     = []
}

variable "enforce_consumer_deletion" {
  description = "Deregister enhanced fan-out consumers when the stream is destroyed."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
