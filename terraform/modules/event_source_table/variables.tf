variable "name" {
  description = "Name of the DynamoDB table."
  type        = string
}

variable "hash_key" {
  description = "Partition key attribute (a string holding the aggregate id)."
  type        = string
  default     = "Uuid"
}

variable "billing_mode" {
  description = "PAY_PER_REQUEST (on demand) or PROVISIONED."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "read_capacity" {
  description = "Read capacity units (only with billing_mode = PROVISIONED)."
  type        = number
  default     = 5
}

variable "write_capacity" {
  description = "Write capacity units (only with billing_mode = PROVISIONED)."
  type        = number
  default     = 5
}

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery (continuous backups)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for encryption at rest; null = the AWS managed key aws/dynamodb."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to delete the table (set false for throwaway environments)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
