#!/bin/sh
# reader.sh - watch the demo's events arrive: every record of every shard of
# the Kinesis stream (the envelope JSON, one line per event), and from time to
# time the archive objects in S3 and the relay's metrics. Runs until stopped,
# or exits after IDLE_EXIT seconds without a new record (0 = never).
# Needs the AWS CLI (v2, or v1 >= 1.29 for AWS_ENDPOINT_URL) and base64.
set -eu

STREAM=${STREAM:-events}
BUCKET=${BUCKET:-event-archive}
PREFIX=${PREFIX:-events/}
METRICS_URL=${METRICS_URL:-}
POLL=${POLL:-1}
IDLE_EXIT=${IDLE_EXIT:-0}
REPORT_EVERY=${REPORT_EVERY:-15}

say() { printf 'reader: %s\n' "$*"; }
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
trap 'exit 0' INT TERM

i=0
until aws kinesis describe-stream-summary --stream-name "$STREAM" >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 120 ] || { say "stream $STREAM does not exist" >&2; exit 1; }
	sleep 1
done

shards=$(aws kinesis list-shards --stream-name "$STREAM" --query 'Shards[].ShardId' --output text)
for s in $shards; do
	aws kinesis get-shard-iterator --stream-name "$STREAM" --shard-id "$s" \
		--shard-iterator-type TRIM_HORIZON --query ShardIterator --output text >"$state/$s"
done
say "reading stream $STREAM (shards: $(echo $shards)) from the oldest record"

report() {
	objects=$(aws s3api list-objects-v2 --bucket "$BUCKET" --prefix "$PREFIX" \
		--query 'length(Contents || `[]`)' --output text 2>/dev/null || echo "?")
	say "$total events so far; $objects archive objects under s3://$BUCKET/$PREFIX"
	if [ "$objects" != "?" ] && [ "$objects" != "0" ]; then
		aws s3 ls --recursive "s3://$BUCKET/$PREFIX" 2>/dev/null | tail -n 5 | sed 's/^/reader:   /'
	fi
	if [ -n "$METRICS_URL" ] && command -v curl >/dev/null 2>&1; then
		curl -fsS --max-time 2 "$METRICS_URL" 2>/dev/null | grep -E '^eventrelay_[a-z_]+(\{[^}]*\})? ' |
			sed 's/^/reader:   /' | head -n 20 || true
	fi
}

total=0
idle=0
last_report=$(date +%s)
while :; do
	got=0
	for s in $shards; do
		it=$(cat "$state/$s")
		[ -n "$it" ] && [ "$it" != "None" ] || continue
		# One call per shard and poll: the next iterator on the first line, then
		# the records' Data (base64 of the JSON envelope), tab-separated.
		aws kinesis get-records --shard-iterator "$it" --limit 1000 \
			--query '[[NextShardIterator], Records[].Data]' --output text >"$state/out"
		head -n 1 "$state/out" >"$state/$s"
		tail -n +2 "$state/out" | tr '\t' '\n' | sed '/^$/d' >"$state/data"
		while IFS= read -r b64; do
			printf '%s' "$b64" | base64 -d
			echo
			got=$((got + 1))
		done <"$state/data"
	done
	total=$((total + got))
	now=$(date +%s)
	if [ "$got" -gt 0 ]; then idle=0; else idle=$((idle + POLL)); fi
	if [ $((now - last_report)) -ge "$REPORT_EVERY" ]; then
		report
		last_report=$now
	fi
	if [ "$IDLE_EXIT" -gt 0 ] && [ "$idle" -ge "$IDLE_EXIT" ]; then
		report
		say "no new records for ${IDLE_EXIT}s: $total events read, exiting"
		exit 0
	fi
	sleep "$POLL"
done
