# terraform test: renders the module with the real AWS provider but without an
# AWS account. Every managed resource is overridden (no API call is made); the
# IAM policy document is computed by the provider for real, so the assertions
# below check the policy the function would get. Run by tests/t_terraform.sh.

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
  function_name = "carts-relay"
  # Any existing file: the function is not deployed by this test.
  zip_path            = "README.md"
  table_stream_arn    = "arn:aws:dynamodb:eu-west-1:123456789012:table/carts/stream/2026-01-01T00:00:00.000"
  kinesis_stream_arn  = "arn:aws:kinesis:eu-west-1:123456789012:stream/events"
  kinesis_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  aggregate_type      = "cart"
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

override_resource {
  target = aws_sqs_queue.on_failure
  values = { arn = "arn:aws:sqs:eu-west-1:123456789012:carts-relay-on-failure", url = "https://sqs.eu-west-1.amazonaws.com/123456789012/carts-relay-on-failure" }
}

override_resource {
  target = aws_cloudwatch_log_group.this
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/carts-relay" }
}

override_resource {
  target = aws_iam_role.this
  values = { arn = "arn:aws:iam::123456789012:role/carts-relay-role", id = "carts-relay-role", name = "carts-relay-role" }
}

override_resource {
  target = aws_iam_role_policy.relay
}

override_resource {
  target = aws_lambda_function.this
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:carts-relay" }
}

override_resource {
  target = aws_lambda_event_source_mapping.this
}

run "renders" {
  command = apply

  # The policy names exactly the stream, the table stream, the queue, the log
  # group (and its streams) and the Kinesis key: nothing else, no "*".
  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.relay.json).Statement : s.Resource])) == toset([
      "arn:aws:dynamodb:eu-west-1:123456789012:table/carts/stream/2026-01-01T00:00:00.000",
      "arn:aws:kinesis:eu-west-1:123456789012:stream/events",
      "arn:aws:sqs:eu-west-1:123456789012:carts-relay-on-failure",
      "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/carts-relay",
      "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/carts-relay:log-stream:*",
      "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    ])
    error_message = "the relay's policy names other resources than the stream, table stream, queue, log group and key"
  }

  assert {
    condition     = !contains(flatten([for s in jsondecode(data.aws_iam_policy_document.relay.json).Statement : s.Resource]), "*")
    error_message = "a '*' resource in the relay's policy"
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "the function is not a provided.al2023 custom runtime with handler bootstrap"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["EVENTRELAY_SINK"] == "kinesis" && aws_lambda_function.this.environment[0].variables["EVENTRELAY_STREAM"] == "events" && aws_lambda_function.this.environment[0].variables["EVENTRELAY_TABLE"] == "carts" && aws_lambda_function.this.environment[0].variables["EVENTRELAY_AGGREGATE_TYPE"] == "cart"
    error_message = "the relay's configuration variables are wrong"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/carts-relay"
    error_message = "the function does not log to its own log group with retention"
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"]) &&
      aws_lambda_event_source_mapping.this.bisect_batch_on_function_error == true &&
      aws_lambda_event_source_mapping.this.maximum_retry_attempts == 10 &&
      aws_lambda_event_source_mapping.this.batch_size == 100 &&
      aws_lambda_event_source_mapping.this.starting_position == "TRIM_HORIZON" &&
      aws_lambda_event_source_mapping.this.destination_config[0].on_failure[0].destination_arn == "arn:aws:sqs:eu-west-1:123456789012:carts-relay-on-failure"
    )
    error_message = "the event source mapping is not configured as documented"
  }
}

run "dead_letters_to_s3" {
  command = apply

  variables {
    dead_letter_bucket_arn = "arn:aws:s3:::acme-archive"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["EVENTRELAY_DEAD_LETTER"] == "s3://acme-archive/dead-letter/dynamodb"
    error_message = "dead letters do not go to the bucket"
  }

  assert {
    condition     = contains(flatten([for s in jsondecode(data.aws_iam_policy_document.relay.json).Statement : s.Resource]), "arn:aws:s3:::acme-archive/dead-letter/dynamodb/*") && !contains(flatten([for s in jsondecode(data.aws_iam_policy_document.relay.json).Statement : s.Resource]), "arn:aws:s3:::acme-archive/*")
    error_message = "the function may not write exactly the dead-letter prefix"
  }
}

run "rejects_a_wildcard_stream" {
  command = plan

  variables {
    kinesis_stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/*"
  }

  expect_failures = [var.kinesis_stream_arn]
}
