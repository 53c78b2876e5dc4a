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

variable "vpc_id" {
  description = "VPC of the database and the relay."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (two availability zones) for the database and the relay task."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL major version of the instance."
  type        = string
  default     = "17"
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "database_name" {
  description = "Database holding the event store."
  type        = string
  default     = "app"
}

variable "relay_db_user" {
  description = "Database role of the relay (CREATE ROLE relay LOGIN; GRANT rds_iam, rds_replication TO relay)."
  type        = string
  default     = "relay"
}

variable "deletion_protection" {
  description = "Refuse to delete the database."
  type        = bool
  default     = true
}

variable "relay_image" {
  description = "Relay container image (docker/Dockerfile.relay with the RDS CA bundle added)."
  type        = string
}

variable "relay_ca_bundle_path" {
  description = "Path of the RDS CA bundle (global-bundle.pem) inside the relay image."
  type        = string
  default     = "/etc/ssl/certs/rds-global-bundle.pem"
}

variable "relay_extra_args" {
  description = "Extra relay flags. RDS cannot load the eventstore output plugin: the relay decodes pgoutput itself (docs/managed-postgres.md)."
  type        = list(string)
  default     = ["--decoder=pgoutput"]
}

variable "ecr_repository_arn" {
  description = "Private ECR repository of the image, if any."
  type        = string
  default     = null
}

variable "execution_role_policy_arns" {
  description = "Managed policies for the execution role (ecr:GetAuthorizationToken for private ECR)."
  type        = list(string)
  default     = []
}
