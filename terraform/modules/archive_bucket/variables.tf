variable "bucket_name" {
  description = "Globally unique name of the archive bucket."
  type        = string
}

variable "archive_prefix" {
  description = "Key prefix the relay writes archive objects under (the lifecycle tiering and expiry apply to it). Ends with '/'."
  type        = string
  default     = "events/"

  validation {
    condition     = var.archive_prefix == "" || endswith(var.archive_prefix, "/")
    error_message = "archive_prefix must be empty or end with '/'."
  }
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS (with an S3 bucket key); null = SSE-S3 (AES256)."
  type        = string
  default     = null
}

variable "transitions" {
  description = "Storage class transitions of archive objects, by age in days. Note: S3 does not transition objects under 128 KiB by default."
  type = list(object({
    days          = number
    storage_class = string
  }))
  default = [
    { days = 30, storage_class = "STANDARD_IA" },
    { days = 90, storage_class = "GLACIER_IR" },
  ]

  validation {
    condition = alltrue([for t in var.transitions : contains(
      ["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"],
      t.storage_class
    )])
    error_message = "storage_class must be one of STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE."
  }
}

variable "expiration_days" {
  description = "Delete archive objects after this many days; null = keep forever (the archive is the event history, so the default is to keep it)."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null ? true : var.expiration_days >= 1
    error_message = "expiration_days must be null or at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Delete overwritten/deleted (noncurrent) object versions after this many days."
  type        = number
  default     = 30
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Abort multipart uploads left incomplete (e.g. by a killed relay) after this many days."
  type        = number
  default     = 7
}

variable "force_destroy" {
  description = "Allow destroying the bucket with objects in it (throwaway environments only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
