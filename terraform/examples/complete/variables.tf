variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "eventstore"
}

variable "tags" {
  description = "Tags for every resource (provider default_tags)."
  type        = map(string)
  default = {
    project = "eventstore"
  }
}

variable "kinesis_stream_mode" {
  description = "ON_DEMAND or PROVISIONED."
  type        = string
  default     = "ON_DEMAND"
}

variable "kinesis_shard_count" {
  description = "Shards when PROVISIONED."
  type        = number
  default     = 1
}

variable "kinesis_retention_hours" {
  description = "Kinesis retention in hours."
  type        = number
  default     = 24
}

variable "archive_bucket_name" {
  description = "Globally unique name of the archive bucket."
  type        = string
}

variable "archive_prefix" {
  description = "Key prefix of the archive objects."
  type        = string
  default     = "events/"
}

variable "archive_expiration_days" {
  description = "Expire archive objects after this many days; null = keep forever."
  type        = number
  default     = null
}

variable "deletion_protection" {
  description = "Deletion protection of the DynamoDB table."
  type        = bool
  default     = true
}

variable "lambda_zip_path" {
  description = "Zip made by scripts/build-lambda-zip.sh (path relative to this directory or absolute)."
  type        = string
  default     = "../../../dist/eventrelay-lambda.zip"
}

variable "lambda_architecture" {
  description = "x86_64 or arm64, as the zip was built."
  type        = string
  default     = "x86_64"
}

variable "relay_image" {
  description = "Image built from docker/Dockerfile.relay and pushed to a registry the task can pull from."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository of relay_image, if it is in private ECR."
  type        = string
  default     = null
}

variable "execution_role_policy_arns" {
  description = "Managed policies for the ECS execution role (e.g. one granting ecr:GetAuthorizationToken for private ECR)."
  type        = list(string)
  default     = []
}

variable "vpc_id" {
  description = "VPC of the PostgreSQL database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the relay task."
  type        = list(string)
}

variable "database_security_group_id" {
  description = "Security group of the database (the relay is let in on 5432)."
  type        = string
}

variable "database_secret_arn" {
  description = "Secrets Manager secret with the relay's database login: JSON {host, port, username, password, dbname}."
  type        = string
}

variable "database_secret_kms_key_arn" {
  description = "Customer managed key of that secret, if any."
  type        = string
  default     = null
}
