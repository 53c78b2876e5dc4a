# The DynamoDB path: eventrelay as a custom-runtime Lambda (provided.al2023,
# the zip's "bootstrap" is the relay binary, see scripts/build-lambda-zip.sh)
# fed by the table's stream through an event source mapping. Partial batch
# failures are reported (ReportBatchItemFailures) so Lambda retries from the
# first record that was not fully published; batches that still fail are
# bisected, retried a bounded number of times, and finally described in an SQS
# on-failure queue.

data "aws_caller_identity" "current" {}

locals {
  log_group_name = "/aws/lambda/${var.function_name}"

  dead_letter_bucket = var.dead_letter_bucket_arn == null ? null : split(":::", var.dead_letter_bucket_arn)[1]
  dead_letter_s3     = local.dead_letter_bucket == null ? null : "s3://${local.dead_letter_bucket}/${trimsuffix(var.dead_letter_prefix, "/")}"

  # Name of the table, from its stream ARN:
  # arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL
  table_name = split("/", var.table_stream_arn)[1]

  # `eventrelay dynamodb` reads every flag from EVENTRELAY_<FLAG> when the
  # bootstrap starts without arguments (see `eventrelay dynamodb --help`).
  # Region: AWS_REGION, which Lambda sets.
  environment = merge(
    {
      EVENTRELAY_INPUT     = "lambda"
      EVENTRELAY_SINK      = "kinesis"
      EVENTRELAY_STREAM    = split("/", var.kinesis_stream_arn)[1]
      EVENTRELAY_TABLE     = local.table_name
      EVENTRELAY_LOG_LEVEL = var.log_level
      # Amazon Linux 2023's CA bundle, also right for a libcurl bundled from
      # another distribution (which would look elsewhere).
      AWS_CA_BUNDLE = "/etc/pki/tls/certs/ca-bundle.crt"
    },
    var.aggregate_type == null ? {} : { EVENTRELAY_AGGREGATE_TYPE = var.aggregate_type },
    # Without a bucket the relay sets dead letters aside in /tmp, which dies
    # with the execution environment.
    local.dead_letter_s3 == null ? {} : { EVENTRELAY_DEAD_LETTER = local.dead_letter_s3 },
    var.environment,
  )
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_sqs_queue" "on_failure" {
  name                      = "${var.function_name}-on-failure"
  message_retention_seconds = var.on_failure_retention_seconds
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

# --- IAM: one role, one inline policy naming exactly the resources it uses ---

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = "${var.function_name}-role"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

data "aws_iam_policy_document" "relay" {
  statement {
    sid = "ReadTheTableStream"
    actions = [
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
    ]
    resources = [var.table_stream_arn]
  }

  statement {
    sid = "PublishToTheStream"
    actions = [
      "kinesis:PutRecord",
      "kinesis:PutRecords",
      "kinesis:DescribeStreamSummary",
    ]
    resources = [var.kinesis_stream_arn]
  }

  statement {
    sid       = "ReportFailedBatches"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.on_failure.arn]
  }

  statement {
    sid = "WriteItsLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = [
      aws_cloudwatch_log_group.this.arn,
      "${aws_cloudwatch_log_group.this.arn}:log-stream:*",
    ]
  }

  # Dead letters: create-only uploads, read back to compare when the key exists.
  dynamic "statement" {
    for_each = var.dead_letter_bucket_arn == null ? [] : ["${var.dead_letter_bucket_arn}/${var.dead_letter_prefix}*"]
    content {
      sid       = "SetAsideDeadLetters"
      actions   = ["s3:PutObject", "s3:GetObject"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.dead_letter_bucket_arn == null || var.dead_letter_kms_key_arn == null ? [] : [var.dead_letter_kms_key_arn]
    content {
      sid       = "EncryptDeadLetters"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
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

  dynamic "statement" {
    for_each = var.table_kms_key_arn == null ? [] : [var.table_kms_key_arn]
    content {
      sid       = "DecryptTheTableStream"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "relay" {
  name   = "eventrelay"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.relay.json
}

# --- the function and its trigger ------------------------------------------

resource "aws_lambda_function" "this" {
  function_name = var.function_name
  description   = "eventrelay: DynamoDB stream of ${local.table_name} -> Kinesis"
  role          = aws_iam_role.this.arn

  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.architecture]

  filename         = var.zip_path
  source_code_hash = filebase64sha256(var.zip_path)

  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.relay,
  ]
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn  = var.table_stream_arn
  function_name     = aws_lambda_function.this.arn
  starting_position = var.starting_position

  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  parallelization_factor             = var.parallelization_factor
  maximum_retry_attempts             = var.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.maximum_record_age_in_seconds
  bisect_batch_on_function_error     = var.bisect_batch_on_function_error
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.on_failure.arn
    }
  }

  # REMOVE records carry no new events; dropping them here saves invocations
  # (the relay would skip them anyway).
  dynamic "filter_criteria" {
    for_each = var.skip_remove_records ? [1] : []
    content {
      filter {
        pattern = jsonencode({ eventName = ["INSERT", "MODIFY"] })
      }
    }
  }

  # Creating the mapping checks that the role may read the stream.
  depends_on = [aws_iam_role_policy.relay]
}
