#!/usr/bin/env bash
#
# t_s3_deadletter.sh - dead letters in S3: eventrelay --sink kinesis --sink s3
# --dead-letter s3://archive/dead-letter against moto_server with IAM
# signature checking on.  Events larger than --max-record-bytes cannot go to
# Kinesis: each must appear as one object under the dead-letter prefix (with
# its envelope and the reason), still be in the archive, and the slot must
# move past them: nothing is dropped, nothing blocks.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need moto_server aws jq python3
RELAY=$(es_relay_bin)
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
es_moto_start
TMP=$ES_TMP
M=$ES_MOTO_URL
aws --endpoint-url "$M" s3api create-bucket --bucket archive >/dev/null
es_kinesis_create "$M" events 1

"$RELAY" --dbname "$(es_relay_dsn)" --slot s3_dl --create-slot --sink kinesis --sink s3 \
	--stream events --endpoint-url "$M" --region us-east-1 --max-record-bytes 4K \
	--s3-bucket archive --s3-endpoint-url "$M" --s3-max-object-age 1s \
	--dead-letter s3://archive/dead-letter --status-interval 1 2>"$TMP/relay.log" &
RELAY_PID=$!
es_on_exit "kill -9 $RELAY_PID"
for ((i = 0; i < 100; i++)); do
	[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name='s3_dl'") == 1 ]] && break
	sleep 0.1
done

# 3 transactions: small, one too large for Kinesis (with a small neighbour), small
A=00000000-0000-4000-8000-00000000000a
es_psql -c "SELECT eventstore.append('$A', 'cart', NULL, '[{\"type\":\"Small\",\"data\":{\"i\":1}}]')" >/dev/null
es_psql -c "SELECT eventstore.append('$A', 'cart', NULL, jsonb_build_array(
	jsonb_build_object('type', 'Huge', 'data', jsonb_build_object('x', repeat('z', 10000))),
	jsonb_build_object('type', 'Small', 'data', jsonb_build_object('i', 2))))" >/dev/null
es_psql -c "SELECT eventstore.append('$A', 'cart', NULL, '[{\"type\":\"Small\",\"data\":{\"i\":3}}]')" >/dev/null
es_check "the slot moves past the oversized event" es_wait_caught_up s3_dl 60
kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "clean exit" 0 "$rc"

aws --endpoint-url "$M" s3api list-objects-v2 --bucket archive --output json >"$TMP/list.json"
jq -r '.Contents[].Key' "$TMP/list.json" >"$TMP/keys.txt"
grep '^dead-letter/' "$TMP/keys.txt" >"$TMP/dl-keys.txt" || true
es_eq "one dead-letter object" 1 "$(wc -l <"$TMP/dl-keys.txt")"
es_check "its key: dead-letter/YYYY/MM/DD/HH/<pos>-<seq>-<hash>.json" \
	grep -Eq '^dead-letter/[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{2}/[0-9A-F]{16}-0-[0-9a-f]{8}\.json$' "$TMP/dl-keys.txt"
aws --endpoint-url "$M" s3 cp "s3://archive/$(head -n 1 "$TMP/dl-keys.txt")" "$TMP/dl.json" --quiet
es_eq "it holds the envelope of the oversized event" "Huge 2" \
	"$(jq -r '.data | fromjson | "\(.type) \(.version)"' "$TMP/dl.json")"
has_reason() { jq -e '.sink == "kinesis" and (.reason | test("larger"))' "$TMP/dl.json" >/dev/null; }
es_check "and the reason" has_reason

aws --endpoint-url "$M" kinesis get-shard-iterator --stream-name events --shard-id shardId-000000000000 \
	--shard-iterator-type TRIM_HORIZON --query ShardIterator --output text >"$TMP/it"
aws --endpoint-url "$M" kinesis get-records --shard-iterator "$(cat "$TMP/it")" |
	jq -r '.Records[].Data | @base64d | fromjson | .version' | tr '\n' ' ' >"$TMP/kv.txt"
es_eq "Kinesis has the other events, in order" "1 3 4 " "$(cat "$TMP/kv.txt")"

mkdir -p "$TMP/arch"
aws --endpoint-url "$M" s3 cp --recursive --quiet s3://archive/events/ "$TMP/arch/" 2>/dev/null ||
	for k in $(grep '^events/' "$TMP/keys.txt"); do
		aws --endpoint-url "$M" s3 cp --quiet "s3://archive/$k" "$TMP/arch/$(basename "$k")"
	done
versions=$(find "$TMP/arch" -name '*.ndjson.gz' | sort | xargs cat | gunzip | jq -r .version | tr '\n' ' ')
es_eq "the archive has all four, the oversized one included" "1 2 3 4 " "$versions"

es_done
