output "stream_name" {
  description = "Name of the stream."
  value       = aws_kinesis_stream.this.name
}

output "stream_arn" {
  description = "ARN of the stream."
  value       = aws_kinesis_stream.this.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the stream (producers need kms:GenerateDataKey on it, consumers kms:Decrypt)."
  value       = local.kms_key_arn
}

output "region" {
  description = "Region of the stream."
  value       = data.aws_region.current.name
}
