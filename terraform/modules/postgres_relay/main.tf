# The PostgreSQL path: eventrelay as one ECS Fargate task that holds the
# logical replication slot and publishes to Kinesis and the S3 archive.
# See README.md for why Fargate (and not EC2 + systemd).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  region = data.aws_region.current.name

  # Names from ARNs: arn:P:kinesis:R:A:stream/NAME and arn:P:s3:::BUCKET
  stream_name = split("/", var.kinesis_stream_arn)[1]
  bucket_name = var.archive_bucket_arn == null ? null : split(":::", var.archive_bucket_arn)[1]

  cluster_arn = var.cluster_arn != null ? var.cluster_arn : aws_ecs_cluster.this[0].arn

  # The connection string, from Secrets Manager. "rds-json" maps the keys of a
  # Secrets Manager database secret ({"host","port","username","password",
  # "dbname"}) to the PG* variables libpq reads; "conninfo" passes the whole secret string (a
  # libpq connection string or URI) in the relay's connection variable.
  # With IAM database authentication there is no password: the user is the
  # one the rds-db:connect policy names, and without a secret the host and
  # database are plain settings.
  secrets = var.database_secret_arn == null ? [] : var.database_secret_format == "rds-json" ? concat(
    [
      { name = "PGHOST", valueFrom = "${var.database_secret_arn}:host::" },
      { name = "PGPORT", valueFrom = "${var.database_secret_arn}:port::" },
      { name = "PGDATABASE", valueFrom = "${var.database_secret_arn}:dbname::" },
    ],
    local.iam != null ? [] : [
      { name = "PGUSER", valueFrom = "${var.database_secret_arn}:username::" },
      { name = "PGPASSWORD", valueFrom = "${var.database_secret_arn}:password::" },
    ],
    ) : [
    { name = var.conninfo_env_name, valueFrom = var.database_secret_arn },
  ]

  # IAM database authentication (RDS, Aurora): the relay signs a token per
  # connection with the task role, which may connect as exactly this user of
  # exactly this instance or cluster.
  iam        = var.iam_database_auth
  iam_region = local.iam == null ? null : coalesce(local.iam.region, local.region)
  iam_db_user_arn = local.iam == null ? null : join(":", [
    "arn", data.aws_partition.current.partition, "rds-db", local.iam_region,
    data.aws_caller_identity.current.account_id, "dbuser", "${local.iam.resource_id}/${local.iam.db_user}",
  ])

  sinks = var.archive_bucket_arn == null ? ["kinesis"] : ["kinesis", "s3"]

  # Flags of `eventrelay --help`; AWS_REGION comes from the environment and
  # credentials from the task role (container credentials endpoint).
  command = concat(
    [
      "--slot=${var.slot_name}",
      "--stream=${local.stream_name}",
    ],
    var.create_slot ? ["--create-slot"] : [],
    local.iam == null ? [] : ["--rds-iam-auth"],
    local.iam == null || try(local.iam.region, null) == null ? [] : ["--rds-region=${local.iam.region}"],
    # two or more tasks: one streams, the others stand by for the slot (docs/failover.md)
    var.relay_count > 1 ? ["--standby"] : [],
    [for s in local.sinks : "--sink=${s}"],
    var.archive_bucket_arn == null ? [] : [
      "--s3-bucket=${local.bucket_name}",
      "--s3-prefix=${var.archive_prefix}",
    ],
    # Records Kinesis can never accept go to the bucket too (not to a file in
    # the task, which would be lost with it).
    local.dead_letter_s3 == null ? [] : ["--dead-letter=${local.dead_letter_s3}"],
    # The lag alarm's metrics: CloudWatch Embedded Metric Format lines on
    # stderr, which awslogs ships to the log group, where CloudWatch makes the
    # metrics of them (no agent or sidecar).
    local.lag_alarm ? [
      "--metrics-emf-interval=60",
      "--metrics-emf-namespace=${var.metrics_namespace}",
    ] : [],
    [
      "--metrics-port=${var.metrics_port}",
      "--log-level=${var.log_level}",
      # Leave ECS a margin between the relay's own flush deadline and SIGKILL.
      "--shutdown-timeout=${max(1, var.stop_timeout_seconds - 10)}",
    ],
    var.extra_args,
  )

  environment = merge(
    {
      AWS_REGION    = local.region
      PGSSLMODE     = var.pg_sslmode
      PGSSLROOTCERT = var.pg_sslrootcert
      PGAPPNAME     = "eventrelay"
    },
    var.database_secret_arn != null ? {} : {
      PGHOST     = var.database_host
      PGPORT     = tostring(var.database_port)
      PGDATABASE = var.database_name
    },
    local.iam == null ? {} : { PGUSER = local.iam.db_user },
    var.environment,
  )

  lag_alarm = coalesce(var.lag_alarm_seconds, 0) > 0

  dead_letter_s3 = var.archive_bucket_arn == null || var.dead_letter_prefix == null ? null : "s3://${local.bucket_name}/${trimsuffix(var.dead_letter_prefix, "/")}"

  # The prefixes the relay writes under, and the object ARNs they make.
  archive_prefixes = var.archive_bucket_arn == null ? [] : concat(
    [var.archive_prefix],
    var.dead_letter_prefix == null ? [] : [var.dead_letter_prefix],
  )
  archive_object_arns = [for p in local.archive_prefixes : "${var.archive_bucket_arn}/${p}*"]
}

# --- cluster, logs ---------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  count = var.cluster_arn == null ? 1 : 0

  name = var.name

  setting {
    name  = "containerInsights"
    value = var.container_insights ? "enabled" : "disabled"
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

# --- IAM -------------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# Execution role: used by ECS itself to pull the image, create the log stream
# and read the secret into the container's environment.
resource "aws_iam_role" "execution" {
  name                 = "${var.name}-execution"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

data "aws_iam_policy_document" "execution" {
  dynamic "statement" {
    for_each = var.database_secret_arn == null ? [] : [var.database_secret_arn]
    content {
      sid       = "ReadTheDatabaseSecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  statement {
    sid = "WriteTheTaskLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = [
      aws_cloudwatch_log_group.this.arn,
      "${aws_cloudwatch_log_group.this.arn}:log-stream:*",
    ]
  }

  dynamic "statement" {
    for_each = var.database_secret_kms_key_arn == null ? [] : [var.database_secret_kms_key_arn]
    content {
      sid       = "DecryptTheDatabaseSecret"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.ecr_repository_arn == null ? [] : [var.ecr_repository_arn]
    content {
      sid = "PullTheRelayImage"
      actions = [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
      ]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "eventrelay-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# Only for what the module cannot scope itself (ecr:GetAuthorizationToken for
# a private ECR image, see README.md); empty by default.
resource "aws_iam_role_policy_attachment" "execution_extra" {
  for_each = toset(var.execution_role_policy_arns)

  role       = aws_iam_role.execution.name
  policy_arn = each.value
}

# Task role: what the relay itself may do. Exactly the stream, the archive
# prefix and their keys.
resource "aws_iam_role" "task" {
  name                 = "${var.name}-task"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid = "PublishToTheStream"
    actions = [
      "kinesis:PutRecord",
      "kinesis:PutRecords",
      "kinesis:DescribeStreamSummary",
    ]
    resources = [var.kinesis_stream_arn]
  }

  dynamic "statement" {
    for_each = local.iam == null ? [] : [local.iam_db_user_arn]
    content {
      sid       = "ConnectToTheDatabaseWithIAM"
      actions   = ["rds-db:connect"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.kinesis_kms_key_arn == null ? [] : [var.kinesis_kms_key_arn]
    content {
      sid       = "EncryptRecordsWithTheStreamKey"
      actions   = ["kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  # The S3 sink uploads create-only (If-None-Match: *) and, when the key
  # exists after a crash, reads it back to compare (GetObject); before its
  # first object it lists its own prefix to find where an earlier run stopped
  # (ListBucket, limited to the prefixes by condition).
  dynamic "statement" {
    for_each = length(local.archive_object_arns) == 0 ? [] : [1]
    content {
      sid = "WriteTheArchive"
      actions = [
        "s3:PutObject",
        "s3:GetObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
      ]
      resources = local.archive_object_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.archive_object_arns) == 0 ? [] : [1]
    content {
      sid       = "ListTheArchivePrefix"
      actions   = ["s3:ListBucket"]
      resources = [var.archive_bucket_arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = [for p in local.archive_prefixes : "${p}*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.archive_bucket_arn == null || var.archive_kms_key_arn == null ? [] : [var.archive_kms_key_arn]
    content {
      sid = "EncryptArchiveObjects"
      # Decrypt is needed too: S3 decrypts the data key to complete multipart uploads.
      actions = [
        "kms:GenerateDataKey",
        "kms:Decrypt",
      ]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "eventrelay"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# --- network -----------------------------------------------------------------

resource "aws_security_group" "this" {
  name        = "${var.name}-relay"
  description = "eventrelay: egress to AWS APIs (HTTPS) and to the database only"
  vpc_id      = var.vpc_id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "AWS APIs (Kinesis, S3, STS, Secrets Manager, ECR, Logs) or their VPC endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.https_egress_cidr
}

resource "aws_vpc_security_group_egress_rule" "database_sg" {
  count = var.database_security_group_id == null ? 0 : 1

  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = var.database_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_relay" {
  count = var.database_security_group_id == null ? 0 : 1

  security_group_id            = var.database_security_group_id
  description                  = "eventrelay ${var.name}"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = aws_security_group.this.id
}

resource "aws_vpc_security_group_egress_rule" "database_cidr" {
  for_each = toset(var.database_cidr_blocks)

  security_group_id = aws_security_group.this.id
  description       = "PostgreSQL"
  ip_protocol       = "tcp"
  from_port         = var.database_port
  to_port           = var.database_port
  cidr_ipv4         = each.value
}

# --- task and service --------------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  lifecycle {
    precondition {
      condition     = var.database_secret_arn != null || (local.iam != null && var.database_host != null)
      error_message = "Give database_secret_arn, or iam_database_auth with database_host."
    }
    precondition {
      condition     = local.iam == null || (var.pg_sslmode == "verify-full" && var.pg_sslrootcert != null)
      error_message = "iam_database_auth sends a token as the password: set pg_sslmode = \"verify-full\" and pg_sslrootcert (the relay refuses anything weaker)."
    }
  }

  container_definitions = jsonencode([
    {
      name      = "eventrelay"
      image     = var.image
      essential = true
      command   = local.command

      environment = [
        for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }
        if local.environment[k] != null
      ]
      secrets = local.secrets

      # SIGTERM: the relay stops reading, flushes what is in flight and reports
      # its final LSN; give it time before SIGKILL (Fargate allows up to 120 s).
      stopTimeout = var.stop_timeout_seconds
      linuxParameters = {
        initProcessEnabled = true
      }

      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = local.region
          awslogs-stream-prefix = "eventrelay"
        }
      }
    }
  ])

  tags = var.tags
}

resource "aws_ecs_service" "this" {
  name            = var.name
  cluster         = local.cluster_arn
  task_definition = aws_ecs_task_definition.this.arn
  launch_type     = "FARGATE"

  # One replication slot has one consumer.  One task: a deployment stops the
  # old task (which flushes and confirms its LSN) before starting the new one,
  # which resumes from the slot.  Two or more (relay_count): one streams, the
  # others wait for the slot (--standby) and take over within seconds; a
  # deployment replaces them one at a time.
  desired_count                      = var.enabled ? var.relay_count : 0
  deployment_minimum_healthy_percent = var.relay_count > 1 ? 50 : 0
  deployment_maximum_percent         = 100

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = concat([aws_security_group.this.id], var.additional_security_group_ids)
    assign_public_ip = var.assign_public_ip
  }

  propagate_tags         = "SERVICE"
  enable_execute_command = false

  tags = var.tags

  depends_on = [
    aws_iam_role_policy.execution,
    aws_iam_role_policy.task,
  ]
}

# --- lag alarm ---------------------------------------------------------------

# The relay's LagSeconds (age of the oldest transaction not yet acknowledged by
# every sink), from the EMF lines it writes once a minute while it streams.
resource "aws_cloudwatch_metric_alarm" "lag" {
  count = local.lag_alarm ? 1 : 0

  alarm_name        = "${var.name}-relay-lag"
  alarm_description = "eventrelay ${var.name}: events of slot ${var.slot_name} wait more than ${var.lag_alarm_seconds} s to reach every sink, or the relay publishes no lag (stopped, crashing, cannot reach the database). docs/failover.md, WAL safety."

  namespace   = var.metrics_namespace
  metric_name = "LagSeconds"
  dimensions = {
    Slot = var.slot_name
  }

  # Maximum: with relay_count = 2 only the streaming relay writes lines (a
  # standby writes none), and one bad sample in the minute counts.
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = var.lag_alarm_evaluation_periods
  datapoints_to_alarm = var.lag_alarm_evaluation_periods
  threshold           = var.lag_alarm_seconds
  comparison_operator = "GreaterThanThreshold"

  # A relay that is dead, restarting in a loop or unable to stream writes no
  # lines at all, so its lag is missing, not high: "missing" must count as
  # breaching, or the worst failure would leave the alarm green (or at best
  # INSUFFICIENT_DATA) while the slot pins WAL on the database.
  treat_missing_data = "breaching"

  alarm_actions = var.lag_alarm_actions
  ok_actions    = var.lag_alarm_ok_actions
  # A stopped service (enabled = false) publishes nothing by design: no pages.
  actions_enabled = var.enabled

  tags = var.tags
}
