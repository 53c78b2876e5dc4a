output "bucket_name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "archive_prefix" {
  description = "Key prefix of the archive objects."
  value       = var.archive_prefix
}

output "kms_key_arn" {
  description = "KMS key of SSE-KMS, or null with SSE-S3."
  value       = var.kms_key_arn
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the bucket."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}
