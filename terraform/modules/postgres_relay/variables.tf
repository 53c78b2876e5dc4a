variable "name" {
  description = "Name of the service (also names its cluster, roles, security group and log group)."
  type        = string
}

variable "image" {
  description = "Relay container image (built from docker/Dockerfile.relay), e.g. ACCOUNT.dkr.ecr.REGION.amazonaws.com/eventrelay:1.0.0. Pin a tag or digest."
  type        = string
}

variable "enabled" {
  description = "Run the relay (desired count 1) or keep it stopped (0)."
  type        = bool
  default     = true
}

variable "cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Fargate task memory in MiB."
  type        = number
  default     = 512
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64 (must match the image)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "cluster_arn" {
  description = "Existing ECS cluster to run in; null = create one named after the service."
  type        = string
  default     = null
}

variable "container_insights" {
  description = "Enable Container Insights on a created cluster."
  type        = bool
  default     = true
}

variable "vpc_id" {
  description = "VPC of the relay (the database's VPC, or one routed to it)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the task (with a NAT gateway or VPC endpoints for Kinesis, S3, Secrets Manager, ECR, Logs, STS)."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give the task a public IP (only for public subnets without NAT)."
  type        = bool
  default     = false
}

variable "additional_security_group_ids" {
  description = "Extra security groups for the task."
  type        = list(string)
  default     = []
}

variable "https_egress_cidr" {
  description = "Where HTTPS egress may go (AWS APIs or VPC endpoints)."
  type        = string
  default     = "0.0.0.0/0"
}

variable "database_security_group_id" {
  description = "Security group of the database: the module allows the relay in on database_port. null = use database_cidr_blocks."
  type        = string
  default     = null
}

variable "database_cidr_blocks" {
  description = "CIDR blocks of the database, when not given as a security group."
  type        = list(string)
  default     = []
}

variable "database_port" {
  description = "PostgreSQL port."
  type        = number
  default     = 5432
}

variable "database_secret_arn" {
  description = "Full ARN of the Secrets Manager secret holding the connection (see database_secret_format). The login must have REPLICATION and be a member of eventstore_relay. May be null with iam_database_auth (then database_host and database_name say where to connect)."
  type        = string
  default     = null

  validation {
    condition     = var.database_secret_arn == null ? true : can(regex("^arn:[^:]+:secretsmanager:[^:]+:[0-9]{12}:secret:[^*]+$", var.database_secret_arn))
    error_message = "database_secret_arn must be the full ARN of one secret."
  }
}

variable "database_secret_format" {
  description = "rds-json: the secret is JSON {host, port, username, password, dbname} (the layout of Secrets Manager database secrets), mapped to PGHOST...PGDATABASE; conninfo: the whole secret is a libpq connection string, passed in conninfo_env_name."
  type        = string
  default     = "rds-json"

  validation {
    condition     = contains(["rds-json", "conninfo"], var.database_secret_format)
    error_message = "database_secret_format must be rds-json or conninfo."
  }
}

variable "conninfo_env_name" {
  description = "Environment variable the relay reads its connection string from (database_secret_format = conninfo)."
  type        = string
  default     = "EVENTRELAY_DBNAME"
}

variable "database_secret_kms_key_arn" {
  description = "Customer managed KMS key of the secret, if any."
  type        = string
  default     = null

  validation {
    condition     = var.database_secret_kms_key_arn == null ? true : can(regex("^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.database_secret_kms_key_arn))
    error_message = "database_secret_kms_key_arn must be null or the ARN of one KMS key (arn:...:key/ID)."
  }
}

variable "pg_sslmode" {
  description = "libpq sslmode. verify-full needs the database CA in the image (pg_sslrootcert); iam_database_auth needs verify-full."
  type        = string
  default     = "require"
}

variable "pg_sslrootcert" {
  description = "Path inside the image of the CA bundle that verifies the database (PGSSLROOTCERT), e.g. the RDS global-bundle.pem added to the image. null = libpq's default."
  type        = string
  default     = null
}

variable "iam_database_auth" {
  description = "RDS/Aurora IAM database authentication instead of a password: the relay (--rds-iam-auth) signs a fresh rds-db:connect token for every connection with its task role, which may connect as exactly arn:PARTITION:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/DB_USER. resource_id: the instance's DbiResourceId (db-...) or the Aurora cluster's resource ID (cluster-...); db_user: the role (GRANT rds_iam, rds_replication); region: the database's, default the provider's. Needs pg_sslmode = verify-full and pg_sslrootcert. null = the password from the secret."
  type = object({
    resource_id = string
    db_user     = string
    region      = optional(string)
  })
  default = null

  validation {
    condition     = var.iam_database_auth == null ? true : can(regex("^(db|cluster)-[A-Za-z0-9]+$", var.iam_database_auth.resource_id))
    error_message = "iam_database_auth.resource_id must be one DbiResourceId (db-...) or cluster resource ID (cluster-...), not an identifier or a wildcard."
  }

  validation {
    condition     = var.iam_database_auth == null ? true : can(regex("^[^*/:]+$", var.iam_database_auth.db_user))
    error_message = "iam_database_auth.db_user must be one database role name (no '*', '/' or ':')."
  }
}

variable "database_host" {
  description = "Host name of the database (PGHOST) when there is no database_secret_arn (with iam_database_auth): the endpoint its certificate names."
  type        = string
  default     = null
}

variable "database_name" {
  description = "Database to connect to (PGDATABASE) when there is no database_secret_arn."
  type        = string
  default     = "postgres"
}

variable "slot_name" {
  description = "Logical replication slot the relay consumes (plugin eventstore)."
  type        = string
  default     = "eventrelay"
}

variable "create_slot" {
  description = "Let the relay create the slot if it does not exist yet."
  type        = bool
  default     = true
}

variable "relay_count" {
  description = "Relay tasks for the slot: 1, or 2 for a hot standby that takes over within seconds when the active one dies (the relays run with --standby; docs/failover.md)."
  type        = number
  default     = 1

  validation {
    condition     = var.relay_count >= 1 && var.relay_count <= 2 && floor(var.relay_count) == var.relay_count
    error_message = "relay_count must be 1 or 2."
  }
}

variable "kinesis_stream_arn" {
  description = "ARN of the Kinesis stream to publish to."
  type        = string

  validation {
    condition     = can(regex("^arn:[^:]+:kinesis:[^:]+:[0-9]{12}:stream/[^*]+$", var.kinesis_stream_arn))
    error_message = "kinesis_stream_arn must be the ARN of one Kinesis stream."
  }
}

variable "kinesis_kms_key_arn" {
  description = "KMS key of the stream's server-side encryption (the task gets kms:GenerateDataKey on it)."
  type        = string
  default     = null

  validation {
    condition     = var.kinesis_kms_key_arn == null ? true : can(regex("^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kinesis_kms_key_arn))
    error_message = "kinesis_kms_key_arn must be null or the ARN of one KMS key (arn:...:key/ID)."
  }
}

variable "archive_bucket_arn" {
  description = "ARN of the S3 archive bucket; null = no S3 sink."
  type        = string
  default     = null

  validation {
    condition     = var.archive_bucket_arn == null ? true : can(regex("^arn:[^:]+:s3:::[^/*]+$", var.archive_bucket_arn))
    error_message = "archive_bucket_arn must be the ARN of one bucket."
  }
}

variable "archive_prefix" {
  description = "Key prefix of the archive objects (the task may write only under it). Ends with '/'."
  type        = string
  default     = "events/"

  validation {
    condition     = length(var.archive_prefix) > 0 && endswith(var.archive_prefix, "/") && !strcontains(var.archive_prefix, "*")
    error_message = "archive_prefix must be non-empty, end with '/' and contain no '*' (the write permission is scoped to it)."
  }
}

variable "dead_letter_prefix" {
  description = "Key prefix in the archive bucket where the relay sets aside records Kinesis can never accept (--dead-letter=s3://BUCKET/PREFIX); null = a file in the task (lost with it). Needs archive_bucket_arn."
  type        = string
  default     = "dead-letter/"

  validation {
    condition     = var.dead_letter_prefix == null ? true : (length(var.dead_letter_prefix) > 0 && endswith(var.dead_letter_prefix, "/") && !strcontains(var.dead_letter_prefix, "*"))
    error_message = "dead_letter_prefix must be null or a non-empty prefix ending with '/', without '*'."
  }
}

variable "archive_kms_key_arn" {
  description = "KMS key of the bucket's SSE-KMS, if any."
  type        = string
  default     = null

  validation {
    condition     = var.archive_kms_key_arn == null ? true : can(regex("^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.archive_kms_key_arn))
    error_message = "archive_kms_key_arn must be null or the ARN of one KMS key (arn:...:key/ID)."
  }
}

variable "metrics_port" {
  description = "Port of the relay's Prometheus metrics endpoint inside the task."
  type        = number
  default     = 9187
}

variable "lag_alarm_seconds" {
  description = "Alarm when the relay's lag (LagSeconds: age of the oldest transaction not yet in every sink) stays above this many seconds for lag_alarm_evaluation_periods minutes, or when the relay publishes no lag at all (missing data is breaching). Minutes, not seconds: a sink retrying is normal. null or 0 = no alarm (and no EMF metrics)."
  type        = number
  default     = null

  validation {
    condition     = var.lag_alarm_seconds == null ? true : var.lag_alarm_seconds >= 0
    error_message = "lag_alarm_seconds must be null, 0 (no alarm) or a positive number of seconds."
  }
}

variable "lag_alarm_evaluation_periods" {
  description = "Consecutive minutes the lag must breach (or be missing) before the alarm fires; a relay restart or a short reconnect stays below it."
  type        = number
  default     = 5

  validation {
    condition     = var.lag_alarm_evaluation_periods >= 1 && var.lag_alarm_evaluation_periods <= 1440 && floor(var.lag_alarm_evaluation_periods) == var.lag_alarm_evaluation_periods
    error_message = "lag_alarm_evaluation_periods must be a whole number of minutes between 1 and 1440."
  }
}

variable "lag_alarm_actions" {
  description = "ARNs notified when the lag alarm fires (an SNS topic, ...)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.lag_alarm_actions : can(regex("^arn:[^:]+:[^:]+:", a))])
    error_message = "lag_alarm_actions must be ARNs (e.g. arn:aws:sns:REGION:ACCOUNT:TOPIC)."
  }
}

variable "lag_alarm_ok_actions" {
  description = "ARNs notified when the lag alarm returns to OK."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.lag_alarm_ok_actions : can(regex("^arn:[^:]+:[^:]+:", a))])
    error_message = "lag_alarm_ok_actions must be ARNs."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the relay's EMF metrics (--metrics-emf-namespace), written when the lag alarm is on; dimension Slot = slot_name."
  type        = string
  default     = "eventrelay"

  validation {
    condition     = can(regex("^[A-Za-z0-9 ._/#-][A-Za-z0-9 ._/#:-]{0,254}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be a custom CloudWatch namespace: 1-255 of letters, digits, spaces and . _ - / # :, not starting with ':' or AWS/."
  }
}

variable "log_level" {
  description = "Relay log level: debug, info, warn or error."
  type        = string
  default     = "info"
}

variable "extra_args" {
  description = "Extra relay command-line flags."
  type        = list(string)
  default     = []
}

variable "environment" {
  description = "Extra environment variables for the relay."
  type        = map(string)
  default     = {}
}

variable "stop_timeout_seconds" {
  description = "Time between SIGTERM and SIGKILL on stop/deploy (max 120 on Fargate); the relay's --shutdown-timeout is 10 s less."
  type        = number
  default     = 60

  validation {
    condition     = var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be between 2 and 120."
  }
}

variable "log_retention_days" {
  description = "Retention of the task's CloudWatch log group, in days."
  type        = number
  default     = 30
}

variable "log_kms_key_arn" {
  description = "KMS key for the log group; null = CloudWatch Logs default encryption."
  type        = string
  default     = null
}

variable "ecr_repository_arn" {
  description = "ARN of the private ECR repository holding the image: the execution role may pull from it. (Also attach a policy for ecr:GetAuthorizationToken through execution_role_policy_arns, see README.md.)"
  type        = string
  default     = null

  validation {
    condition     = var.ecr_repository_arn == null ? true : can(regex("^arn:[^:]+:ecr:[^:]+:[0-9]{12}:repository/[^*]+$", var.ecr_repository_arn))
    error_message = "ecr_repository_arn must be null or the ARN of one repository."
  }
}

variable "execution_role_policy_arns" {
  description = "Managed policies to attach to the execution role, for what cannot be scoped to a resource (ecr:GetAuthorizationToken). Empty by default."
  type        = list(string)
  default     = []
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for both roles, if your organisation requires one."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
