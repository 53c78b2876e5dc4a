variable "function_name" {
  description = "Name of the Lambda function (also names its role, log group and on-failure queue)."
  type        = string
}

variable "zip_path" {
  description = "Path of the deployment zip made by scripts/build-lambda-zip.sh (contains the relay as 'bootstrap', built for Amazon Linux 2023)."
  type        = string
}

variable "architecture" {
  description = "Instruction set the bootstrap was built for: x86_64 or arm64."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "table_stream_arn" {
  description = "ARN of the DynamoDB table's stream (NEW_AND_OLD_IMAGES), e.g. module.event_source_table.stream_arn."
  type        = string

  validation {
    condition     = can(regex("^arn:[^:]+:dynamodb:[^:]+:[0-9]{12}:table/[^/]+/stream/[^*]+$", var.table_stream_arn))
    error_message = "table_stream_arn must be the ARN of one table stream (arn:...:table/NAME/stream/LABEL)."
  }
}

variable "table_kms_key_arn" {
  description = "Customer managed KMS key of the table, if any (the function then gets kms:Decrypt on it)."
  type        = string
  default     = null

  validation {
    condition     = var.table_kms_key_arn == null ? true : can(regex("^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.table_kms_key_arn))
    error_message = "table_kms_key_arn must be null or the ARN of one KMS key (arn:...:key/ID)."
  }
}

variable "kinesis_stream_arn" {
  description = "ARN of the Kinesis stream the events are published to."
  type        = string

  validation {
    condition     = can(regex("^arn:[^:]+:kinesis:[^:]+:[0-9]{12}:stream/[^*]+$", var.kinesis_stream_arn))
    error_message = "kinesis_stream_arn must be the ARN of one Kinesis stream."
  }
}

variable "kinesis_kms_key_arn" {
  description = "KMS key encrypting the Kinesis stream (the function gets kms:GenerateDataKey on it); null if the stream is not encrypted with a customer key."
  type        = string
  default     = null

  validation {
    condition     = var.kinesis_kms_key_arn == null ? true : can(regex("^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kinesis_kms_key_arn))
    error_message = "kinesis_kms_key_arn must be null or the ARN of one KMS key (arn:...:key/ID)."
  }
}

variable "dead_letter_bucket_arn" {
  description = "Bucket where the relay sets aside records Kinesis can never accept (e.g. the archive bucket); null = /tmp of the execution environment (lost)."
  type        = string
  default     = null

  validation {
    condition     = var.dead_letter_bucket_arn == null ? true : can(regex("^arn:[^:]+:s3:::[^/*]+$", var.dead_letter_bucket_arn))
    error_message = "dead_letter_bucket_arn must be null or the ARN of one bucket."
  }
}

variable "dead_letter_prefix" {
  description = "Key prefix of the dead letters in dead_letter_bucket_arn (the function may write only there)."
  type        = string
  default     = "dead-letter/dynamodb/"

  validation {
    condition     = length(var.dead_letter_prefix) > 0 && endswith(var.dead_letter_prefix, "/") && !strcontains(var.dead_letter_prefix, "*")
    error_message = "dead_letter_prefix must be non-empty, end with '/' and contain no '*'."
  }
}

variable "dead_letter_kms_key_arn" {
  description = "KMS key of the dead-letter bucket's SSE-KMS, if any."
  type        = string
  default     = null

  validation {
    condition     = var.dead_letter_kms_key_arn == null ? true : can(regex("^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.dead_letter_kms_key_arn))
    error_message = "dead_letter_kms_key_arn must be null or the ARN of one KMS key."
  }
}

variable "aggregate_type" {
  description = "aggregate_type written into the envelopes; null = the relay's default (derived from the table name)."
  type        = string
  default     = null
}

variable "log_level" {
  description = "Relay log level."
  type        = string
  default     = "info"
}

variable "environment" {
  description = "Extra environment variables for the relay (override the module's defaults)."
  type        = map(string)
  default     = {}
}

variable "memory_size" {
  description = "Memory of the function in MiB (CPU scales with it)."
  type        = number
  default     = 256
}

variable "timeout_seconds" {
  description = "Function timeout in seconds: long enough to publish a full batch with retries."
  type        = number
  default     = 60
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency; -1 = unreserved."
  type        = number
  default     = -1
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group, in days."
  type        = number
  default     = 30
}

variable "log_kms_key_arn" {
  description = "KMS key for the log group; null = CloudWatch Logs default encryption."
  type        = string
  default     = null
}

variable "starting_position" {
  description = "Where a new mapping starts reading the stream: TRIM_HORIZON (oldest, nothing missed) or LATEST."
  type        = string
  default     = "TRIM_HORIZON"

  validation {
    condition     = contains(["TRIM_HORIZON", "LATEST"], var.starting_position)
    error_message = "starting_position must be TRIM_HORIZON or LATEST."
  }
}

variable "batch_size" {
  description = "Maximum stream records per invocation (1-10000)."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be between 1 and 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long Lambda may wait to fill a batch (0-300); 0 = lowest latency."
  type        = number
  default     = 0
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard (1-10). Lambda keeps order per partition key (aggregate) at any factor."
  type        = number
  default     = 1
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before it goes to the on-failure queue (-1 = until the record expires, 0-10000)."
  type        = number
  default     = 10
}

variable "maximum_record_age_in_seconds" {
  description = "Records older than this go to the on-failure queue (-1 = no limit, else 60-604800)."
  type        = number
  default     = -1
}

variable "bisect_batch_on_function_error" {
  description = "Split a failing batch in two and retry the halves, isolating a poison record."
  type        = bool
  default     = true
}

variable "skip_remove_records" {
  description = "Filter REMOVE stream records out before invoking the function."
  type        = bool
  default     = true
}

variable "on_failure_retention_seconds" {
  description = "How long on-failure records stay in the SQS queue (max 14 days)."
  type        = number
  default     = 1209600
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for the function's role, if your organisation requires one."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
