# terraform test: renders the module with the real AWS provider but without an
# AWS account. Every managed resource is overridden (no API call is made); the
# IAM policy documents are computed by the provider for real, so the
# assertions below check the policies the task would get. Run by
# tests/t_terraform.sh.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

variables {
  name                       = "pg-relay"
  image                      = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/eventrelay:1.0.0"
  vpc_id                     = "vpc-0123456789abcdef0"
  subnet_ids                 = ["subnet-0123456789abcdef0"]
  database_security_group_id = "sg-0123456789abcdef0"
  database_secret_arn        = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:eventstore/relay-AbCdEf"
  kinesis_stream_arn         = "arn:aws:kinesis:eu-west-1:123456789012:stream/events"
  kinesis_kms_key_arn        = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  archive_bucket_arn         = "arn:aws:s3:::acme-archive"
  ecr_repository_arn         = "arn:aws:ecr:eu-west-1:123456789012:repository/eventrelay"
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

override_data {
  target = data.aws_region.current
  values = { name = "eu-west-1" }
}

override_data {
  target = data.aws_partition.current
  values = { partition = "aws" }
}

override_resource {
  target = aws_ecs_cluster.this
  values = { arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/pg-relay" }
}

override_resource {
  target = aws_cloudwatch_log_group.this
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/pg-relay" }
}

override_resource {
  target = aws_iam_role.execution
  values = { arn = "arn:aws:iam::123456789012:role/pg-relay-execution", id = "pg-relay-execution", name = "pg-relay-execution" }
}

override_resource {
  target = aws_iam_role.task
  values = { arn = "arn:aws:iam::123456789012:role/pg-relay-task", id = "pg-relay-task", name = "pg-relay-task" }
}

override_resource {
  target = aws_iam_role_policy.execution
}

override_resource {
  target = aws_iam_role_policy.task
}

override_resource {
  target = aws_iam_role_policy_attachment.execution_extra
}

override_resource {
  target = aws_security_group.this
  values = { id = "sg-0fedcba9876543210" }
}

override_resource {
  target = aws_vpc_security_group_egress_rule.https
}

override_resource {
  target = aws_vpc_security_group_egress_rule.database_sg
}

override_resource {
  target = aws_vpc_security_group_egress_rule.database_cidr
}

override_resource {
  target = aws_vpc_security_group_ingress_rule.database_from_relay
}

override_resource {
  target = aws_ecs_task_definition.this
  values = { arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/pg-relay:1" }
}

override_resource {
  target = aws_ecs_service.this
}

override_resource {
  target = aws_cloudwatch_metric_alarm.lag
  values = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pg-relay-relay-lag" }
}

run "renders" {
  command = apply

  # Task role: the one stream, its key, and objects under the archive prefix.
  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.task.json).Statement : s.Resource])) == toset([
      "arn:aws:kinesis:eu-west-1:123456789012:stream/events",
      "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
      "arn:aws:s3:::acme-archive/events/*",
      "arn:aws:s3:::acme-archive/dead-letter/*",
      "arn:aws:s3:::acme-archive",
    ])
    error_message = "the task role names other resources than the stream, its key, the bucket and its two prefixes"
  }

  # Listing only under the relay's own prefixes.
  assert {
    condition     = one([for s in jsondecode(data.aws_iam_policy_document.task.json).Statement : s.Condition.StringLike["s3:prefix"] if s.Sid == "ListTheArchivePrefix"]) == ["events/*", "dead-letter/*"]
    error_message = "s3:ListBucket is not limited to the archive and dead-letter prefixes"
  }

  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.task.json).Statement : s.Action])) == toset([
      "kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary", "kms:GenerateDataKey",
      "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:GetObject", "s3:ListBucket",
    ])
    error_message = "the task role allows other actions than publishing and archiving"
  }

  # Execution role: the secret, the log group, the repository.
  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.execution.json).Statement : s.Resource])) == toset([
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:eventstore/relay-AbCdEf",
      "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/pg-relay",
      "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/pg-relay:log-stream:*",
      "arn:aws:ecr:eu-west-1:123456789012:repository/eventrelay",
    ])
    error_message = "the execution role names other resources than the secret, the log group and the repository"
  }

  # The connection comes from the secret, into libpq's variables.
  assert {
    condition = toset([for s in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets : "${s.name}=${s.valueFrom}"]) == toset([
      "PGHOST=arn:aws:secretsmanager:eu-west-1:123456789012:secret:eventstore/relay-AbCdEf:host::",
      "PGPORT=arn:aws:secretsmanager:eu-west-1:123456789012:secret:eventstore/relay-AbCdEf:port::",
      "PGUSER=arn:aws:secretsmanager:eu-west-1:123456789012:secret:eventstore/relay-AbCdEf:username::",
      "PGPASSWORD=arn:aws:secretsmanager:eu-west-1:123456789012:secret:eventstore/relay-AbCdEf:password::",
      "PGDATABASE=arn:aws:secretsmanager:eu-west-1:123456789012:secret:eventstore/relay-AbCdEf:dbname::",
    ])
    error_message = "the database login does not come from the secret"
  }

  assert {
    condition = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command == [
      "--slot=eventrelay", "--stream=events", "--create-slot", "--sink=kinesis", "--sink=s3",
      "--s3-bucket=acme-archive", "--s3-prefix=events/", "--dead-letter=s3://acme-archive/dead-letter",
      "--metrics-port=9187", "--log-level=info",
      "--shutdown-timeout=50",
    ]
    error_message = "unexpected relay command line"
  }

  assert {
    condition     = aws_ecs_service.this.desired_count == 1 && aws_ecs_service.this.deployment_maximum_percent == 100 && aws_ecs_service.this.deployment_minimum_healthy_percent == 0
    error_message = "the service must run exactly one relay and stop the old one before starting a new one"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.lag) == 0 && output.lag_alarm_arn == null
    error_message = "no lag alarm unless lag_alarm_seconds is set"
  }
}

run "lag_alarm" {
  command = apply

  variables {
    slot_name            = "orders"
    lag_alarm_seconds    = 300
    lag_alarm_actions    = ["arn:aws:sns:eu-west-1:123456789012:relay-pages"]
    lag_alarm_ok_actions = ["arn:aws:sns:eu-west-1:123456789012:relay-pages"]
  }

  # The relay writes the metric the alarm reads: EMF once a minute, the
  # namespace the alarm names, dimension Slot = the slot it streams.
  assert {
    condition = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command == [
      "--slot=orders", "--stream=events", "--create-slot", "--sink=kinesis", "--sink=s3",
      "--s3-bucket=acme-archive", "--s3-prefix=events/", "--dead-letter=s3://acme-archive/dead-letter",
      "--metrics-emf-interval=60", "--metrics-emf-namespace=eventrelay",
      "--metrics-port=9187", "--log-level=info",
      "--shutdown-timeout=50",
    ]
    error_message = "with the alarm the relay must write EMF lines every 60 s in the alarm's namespace"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.lag[0].namespace == "eventrelay" &&
      aws_cloudwatch_metric_alarm.lag[0].metric_name == "LagSeconds" &&
      aws_cloudwatch_metric_alarm.lag[0].dimensions == tomap({ Slot = "orders" }) &&
      aws_cloudwatch_metric_alarm.lag[0].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.lag[0].period == 60
    )
    error_message = "the alarm must read Maximum of eventrelay/LagSeconds for Slot=orders per minute, as the relay writes it"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.lag[0].threshold == 300 &&
      aws_cloudwatch_metric_alarm.lag[0].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.lag[0].evaluation_periods == 5 &&
      aws_cloudwatch_metric_alarm.lag[0].datapoints_to_alarm == 5
    )
    error_message = "the alarm fires after 5 minutes above lag_alarm_seconds"
  }

  # A dead relay writes nothing: missing data must page too.
  assert {
    condition     = aws_cloudwatch_metric_alarm.lag[0].treat_missing_data == "breaching"
    error_message = "missing lag data (a dead relay) must count as breaching"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.lag[0].alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:relay-pages"]) &&
      aws_cloudwatch_metric_alarm.lag[0].ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:relay-pages"]) &&
      aws_cloudwatch_metric_alarm.lag[0].actions_enabled
    )
    error_message = "the alarm notifies lag_alarm_actions and lag_alarm_ok_actions"
  }

  assert {
    condition     = output.lag_alarm_arn == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pg-relay-relay-lag"
    error_message = "lag_alarm_arn output"
  }
}

run "lag_alarm_of_a_stopped_relay_stays_quiet" {
  command = apply

  variables {
    enabled           = false
    lag_alarm_seconds = 120
    metrics_namespace = "EventStore/Relay"
    lag_alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:relay-pages"]
  }

  # desired count 0 writes no lines: breaching by design, so no notifications
  assert {
    condition     = aws_ecs_service.this.desired_count == 0 && !aws_cloudwatch_metric_alarm.lag[0].actions_enabled
    error_message = "a stopped relay's alarm must not notify"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.lag[0].namespace == "EventStore/Relay" && contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command, "--metrics-emf-namespace=EventStore/Relay")
    error_message = "the relay and the alarm must use the same namespace"
  }
}

run "lag_alarm_zero_is_off" {
  command = apply

  variables {
    lag_alarm_seconds = 0
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.lag) == 0 && !contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command, "--metrics-emf-interval=60")
    error_message = "lag_alarm_seconds = 0 means no alarm and no EMF lines"
  }
}

run "rejects_an_aws_namespace" {
  command = plan

  variables {
    lag_alarm_seconds = 300
    metrics_namespace = "AWS/ECS"
  }

  expect_failures = [var.metrics_namespace]
}

run "kinesis_only_with_a_conninfo_secret" {
  command = apply

  variables {
    archive_bucket_arn     = null
    database_secret_format = "conninfo"
    ecr_repository_arn     = null
  }

  assert {
    condition     = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.task.json).Statement : s.Resource])) == toset(["arn:aws:kinesis:eu-west-1:123456789012:stream/events", "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"])
    error_message = "without an archive the task may touch only the stream and its key"
  }

  assert {
    condition     = [for s in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets : s.name] == ["EVENTRELAY_DBNAME"]
    error_message = "a conninfo secret goes whole into EVENTRELAY_DBNAME"
  }
}

run "rejects_a_wildcard_bucket" {
  command = plan

  variables {
    archive_bucket_arn = "arn:aws:s3:::*"
  }

  expect_failures = [var.archive_bucket_arn]
}

run "iam_database_auth_without_a_secret" {
  command = apply

  variables {
    database_secret_arn = null
    database_host       = "orders.abcdefghijkl.eu-west-1.rds.amazonaws.com"
    database_name       = "app"
    pg_sslmode          = "verify-full"
    pg_sslrootcert      = "/etc/ssl/rds/global-bundle.pem"
    iam_database_auth = {
      resource_id = "db-ABCDEFGHIJKLMNOPQRSTUVWXY1"
      db_user     = "relay"
    }
  }

  # rds-db:connect on exactly the one user of the one instance, nothing broader.
  assert {
    condition     = one([for s in jsondecode(data.aws_iam_policy_document.task.json).Statement : s.Resource if s.Sid == "ConnectToTheDatabaseWithIAM"]) == "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY1/relay"
    error_message = "the task role must name exactly the dbuser resource of the relay's role"
  }

  assert {
    condition     = one([for s in jsondecode(data.aws_iam_policy_document.task.json).Statement : s.Action if s.Sid == "ConnectToTheDatabaseWithIAM"]) == "rds-db:connect"
    error_message = "IAM database authentication needs rds-db:connect and nothing else"
  }

  assert {
    condition     = output.iam_db_user_arn == "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY1/relay"
    error_message = "iam_db_user_arn output"
  }

  # No secret to read: the execution role names only the logs and the repository.
  assert {
    condition     = length([for s in jsondecode(data.aws_iam_policy_document.execution.json).Statement : s if s.Sid == "ReadTheDatabaseSecret"]) == 0
    error_message = "without a secret the execution role must not read one"
  }

  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command, "--rds-iam-auth")
    error_message = "the relay must be started with --rds-iam-auth"
  }

  assert {
    condition = toset([for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : "${e.name}=${e.value}"]) == toset([
      "AWS_REGION=eu-west-1", "PGAPPNAME=eventrelay", "PGSSLMODE=verify-full",
      "PGSSLROOTCERT=/etc/ssl/rds/global-bundle.pem", "PGHOST=orders.abcdefghijkl.eu-west-1.rds.amazonaws.com",
      "PGPORT=5432", "PGDATABASE=app", "PGUSER=relay",
    ])
    error_message = "the connection settings of an IAM login are not as documented"
  }

  assert {
    condition     = length(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets) == 0
    error_message = "no secret, no password"
  }
}

run "iam_database_auth_with_the_secret_for_the_endpoint" {
  command = apply

  variables {
    pg_sslmode     = "verify-full"
    pg_sslrootcert = "/etc/ssl/rds/global-bundle.pem"
    iam_database_auth = {
      resource_id = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXY2"
      db_user     = "relay"
      region      = "eu-central-1"
    }
  }

  assert {
    condition     = one([for s in jsondecode(data.aws_iam_policy_document.task.json).Statement : s.Resource if s.Sid == "ConnectToTheDatabaseWithIAM"]) == "arn:aws:rds-db:eu-central-1:123456789012:dbuser:cluster-ABCDEFGHIJKLMNOPQRSTUVWXY2/relay"
    error_message = "the dbuser resource must be in the database's region"
  }

  # Host, port and database from the secret; the user is the policy's, and no password.
  assert {
    condition     = [for s in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets : s.name] == ["PGHOST", "PGPORT", "PGDATABASE"]
    error_message = "with IAM auth the secret gives the endpoint only"
  }

  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command, "--rds-region=eu-central-1")
    error_message = "the token must be signed for the database's region"
  }
}

run "iam_database_auth_refuses_unverified_tls" {
  command = plan

  variables {
    iam_database_auth = {
      resource_id = "db-ABCDEFGHIJKLMNOPQRSTUVWXY1"
      db_user     = "relay"
    }
  }

  expect_failures = [aws_ecs_task_definition.this]
}

run "iam_database_auth_rejects_a_wildcard_user" {
  command = plan

  variables {
    pg_sslmode     = "verify-full"
    pg_sslrootcert = "/etc/ssl/rds/global-bundle.pem"
    iam_database_auth = {
      resource_id = "db-ABCDEFGHIJKLMNOPQRSTUVWXY1"
      db_user     = "*"
    }
  }

  expect_failures = [var.iam_database_auth]
}
