# terraform test: plans and "applies" the whole example against a mocked AWS
# provider (no account, no network), with realistic ARNs for the resources
# whose ARNs the relay modules validate. Checks that both paths are wired to
# the same stream and key. Run by tests/t_terraform.sh.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_kinesis_stream" {
    defaults = { arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/eventstore-events" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/eventstore-aggregates/stream/2026-01-01T00:00:00.000" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::acme-eventstore-archive" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_ecs_cluster" {
    defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/mock" }
  }
  mock_resource "aws_ecs_task_definition" {
    defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/mock:1" }
  }
}

variables {
  archive_bucket_name = "acme-eventstore-archive"
  # Any existing file: nothing is deployed by this test.
  lambda_zip_path            = "README.md"
  relay_image                = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/eventrelay:1.0.0"
  vpc_id                     = "vpc-0123456789abcdef0"
  subnet_ids                 = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  database_security_group_id = "sg-0123456789abcdef0"
  database_secret_arn        = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:eventstore/relay-AbCdEf"
}

run "wires_both_paths" {
  command = apply

  assert {
    condition     = output.kinesis_stream_name == "eventstore-events" && output.dynamodb_table_name == "eventstore-aggregates"
    error_message = "unexpected resource names"
  }

  assert {
    condition     = contains(module.postgres_relay.relay_command, "--stream=eventstore-events") && contains(module.postgres_relay.relay_command, "--s3-bucket=acme-eventstore-archive")
    error_message = "the PostgreSQL relay does not publish to the example's stream and bucket"
  }
}
