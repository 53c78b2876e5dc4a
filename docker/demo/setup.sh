#!/bin/sh
# setup.sh - one-shot: create the demo's Kinesis stream and S3 archive bucket
# on the stand-in (any AWS CLI v2 >= 2.13 with AWS_ENDPOINT_URL set; run by
# the "setup" service of docker-compose.yml). Idempotent.
set -eu

STREAM=${STREAM:-events}
SHARDS=${SHARDS:-2}
BUCKET=${BUCKET:-event-archive}

say() { printf 'setup: %s\n' "$*"; }

i=0
until aws kinesis list-streams >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -ge 60 ]; then
		say "no Kinesis endpoint answers at ${AWS_ENDPOINT_URL_KINESIS:-${AWS_ENDPOINT_URL:-AWS}}" >&2
		exit 1
	fi
	sleep 1
done

if aws kinesis describe-stream-summary --stream-name "$STREAM" >/dev/null 2>&1; then
	say "stream $STREAM exists"
else
	aws kinesis create-stream --stream-name "$STREAM" --shard-count "$SHARDS"
	say "stream $STREAM created ($SHARDS shards)"
fi
aws kinesis wait stream-exists --stream-name "$STREAM"

if aws s3api head-bucket --bucket "$BUCKET" >/dev/null 2>&1; then
	say "bucket $BUCKET exists"
else
	aws s3api create-bucket --bucket "$BUCKET" >/dev/null
	say "bucket $BUCKET created"
fi
say "ready"
