# terraform test: renders the module with the real AWS provider and every
# managed resource overridden (no AWS account, no API call), and checks the
# parameter group and the instance settings the product relies on. Run by
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
  identifier = "orders"
  vpc_id     = "vpc-0123456789abcdef0"
  subnet_ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
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
  target = aws_db_parameter_group.this
}

override_resource {
  target = aws_db_subnet_group.this
}

override_resource {
  target = aws_security_group.this
  values = { id = "sg-0123456789abcdef9" }
}

override_resource {
  target = aws_vpc_security_group_ingress_rule.clients
}

override_resource {
  target = aws_db_instance.this
  values = {
    resource_id        = "db-ABCDEFGHIJKLMNOPQRSTUVWXY1"
    address            = "orders.abcdefghijkl.eu-west-1.rds.amazonaws.com"
    master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1-AbCdEf", kms_key_id = "", secret_status = "active" }]
  }
}

run "prepared_for_the_event_store" {
  command = apply

  assert {
    condition = { for p in aws_db_parameter_group.this.parameter : p.name => "${p.value}/${p.apply_method}" } == {
      "rds.logical_replication"  = "1/pending-reboot"
      "shared_preload_libraries" = "pg_tle,pg_stat_statements/pending-reboot"
      "max_slot_wal_keep_size"   = "10240/immediate"
      "rds.force_ssl"            = "1/immediate"
    }
    error_message = "the parameter group must turn on logical replication, preload pg_tle, bound slot WAL and force TLS"
  }

  assert {
    condition     = aws_db_parameter_group.this.family == "postgres17"
    error_message = "the parameter group family follows the engine's major version"
  }

  assert {
    condition     = aws_db_instance.this.iam_database_authentication_enabled && aws_db_instance.this.manage_master_user_password && aws_db_instance.this.storage_encrypted && !aws_db_instance.this.publicly_accessible
    error_message = "IAM authentication, a managed master password, encryption, no public access"
  }

  assert {
    condition     = output.iam_db_user_arn == "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY1/relay"
    error_message = "the relay's rds-db:connect resource"
  }
}

run "pg_tle_stays_first" {
  command = apply

  variables {
    engine_version            = "16.4"
    preload_libraries         = ["pg_tle", "auto_explain"]
    max_slot_wal_keep_size_mb = -1
  }

  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "shared_preload_libraries"]) == "pg_tle,auto_explain"
    error_message = "pg_tle once, first"
  }

  assert {
    condition     = aws_db_parameter_group.this.family == "postgres16" && one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "max_slot_wal_keep_size"]) == "-1"
    error_message = "family postgres16, unbounded slot WAL when asked"
  }
}

run "rejects_an_old_postgres" {
  command = plan

  variables {
    engine_version = "14"
  }

  expect_failures = [var.engine_version]
}
