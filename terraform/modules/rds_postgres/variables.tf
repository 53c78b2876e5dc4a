variable "identifier" {
  description = "RDS instance identifier (also names its parameter group, subnet group and security group)."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL version: a major (\"17\", RDS picks the newest minor) or major.minor. 15 or later (pg_tle, the SQL flavour, pgoutput row filters)."
  type        = string
  default     = "17"

  validation {
    condition     = can(regex("^1[5-9](\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 15 or later (\"17\" or \"17.2\")."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "port" {
  description = "PostgreSQL port."
  type        = number
  default     = 5432
}

variable "database_name" {
  description = "Database created with the instance (where the event store lives)."
  type        = string
  default     = "app"
}

variable "master_username" {
  description = "Master user; its password is generated and kept in Secrets Manager by RDS."
  type        = string
  default     = "postgres"
}

variable "allocated_storage_gb" {
  description = "Initial storage (gp3), GiB."
  type        = number
  default     = 50
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling limit, GiB (leave room for the WAL a slot may hold: max_slot_wal_keep_size_mb)."
  type        = number
  default     = 200
}

variable "max_slot_wal_keep_size_mb" {
  description = "max_slot_wal_keep_size in MB: the most WAL a replication slot whose relay is down may pin before the slot is invalidated (the relay then stops with exit 3 and says so). -1 = unbounded (the disk may fill)."
  type        = number
  default     = 10240

  validation {
    condition     = var.max_slot_wal_keep_size_mb == -1 || var.max_slot_wal_keep_size_mb >= 1024
    error_message = "max_slot_wal_keep_size_mb must be -1 or at least 1024."
  }
}

variable "preload_libraries" {
  description = "shared_preload_libraries besides pg_tle (which is always first)."
  type        = list(string)
  default     = ["pg_stat_statements"]
}

variable "extra_parameters" {
  description = "More parameters of the parameter group (name => value, applied at the next reboot)."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for storage, the master secret and Performance Insights; null = the AWS managed keys."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "VPC of the instance."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (two availability zones at least) for the subnet group."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed in on the port (the relay's module adds its own rule through database_security_group_id)."
  type        = list(string)
  default     = []
}

variable "additional_security_group_ids" {
  description = "Extra security groups for the instance."
  type        = list(string)
  default     = []
}

variable "multi_az" {
  description = "Multi-AZ deployment (a standby in another availability zone)."
  type        = bool
  default     = true
}

variable "ca_cert_identifier" {
  description = "Server certificate authority; clients verify it with the RDS CA bundle (sslmode=verify-full sslrootcert=global-bundle.pem)."
  type        = string
  default     = "rds-ca-rsa2048-g1"
}

variable "backup_retention_days" {
  description = "Automated backup retention, days."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse to delete the instance."
  type        = bool
  default     = true
}

variable "apply_immediately" {
  description = "Apply instance changes now instead of in the maintenance window."
  type        = bool
  default     = false
}

variable "relay_db_user" {
  description = "The database role the relay logs in as with IAM (CREATE ROLE ... LOGIN; GRANT rds_iam, rds_replication): names the iam_db_user_arn output."
  type        = string
  default     = "relay"

  validation {
    condition     = can(regex("^[^*/:]+$", var.relay_db_user))
    error_message = "relay_db_user must be one role name (no '*', '/' or ':')."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
