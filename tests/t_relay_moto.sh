#!/usr/bin/env bash
#
# t_relay_moto.sh - PostgreSQL + the extension + eventrelay + moto_server with
# IAM signature checking on: concurrent writers append events, the relay
# streams them to Kinesis, the AWS CLI reads them back.  Every event must
# arrive, in version order per aggregate; the slot must be confirmed up to
# the end.  Also: a wrong secret key and an unknown stream stop the relay
# with exit code 2, --help and a bad flag behave, metrics are served.
#
# matrix: every PostgreSQL version
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need moto_server aws jq python3
RELAY=$(es_relay_bin)
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
es_relay_prepare
es_moto_start
es_kinesis_create "$ES_MOTO_URL" events 2
TMP=$ES_TMP

# --- command line --------------------------------------------------------------
"$RELAY" --help >"$TMP/help.txt"
es_check "--help exits 0 and documents the flags" grep -q -- '--max-batch-records' "$TMP/help.txt"
rc=0
"$RELAY" --no-such-flag 2>"$TMP/badflag.txt" || rc=$?
es_eq "a bad flag exits 2" 2 "$rc"
es_eq "a bad flag is one line" 1 "$(wc -l <"$TMP/badflag.txt")"

# --- the stream ----------------------------------------------------------------
MPORT=$(es_free_port)
"$RELAY" --dbname "$(es_relay_dsn)" --slot relay_moto --create-slot \
	--sink kinesis --stream events --endpoint-url "$ES_MOTO_URL" --region us-east-1 \
	--status-interval 1 --metrics-port "$MPORT" --dead-letter "$TMP/dl.ndjson" \
	2>"$TMP/relay.log" &
RELAY_PID=$!
es_on_exit "kill -9 $RELAY_PID"
for ((i = 0; i < 100; i++)); do
	[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name='relay_moto'") == 1 ]] && break
	sleep 0.1
done

# 4 concurrent writers, 150 transactions each, 1-3 events, over 30 shared aggregates
cat >"$TMP/append.sql" <<'SQL'
\set a random(1, 30)
\set n random(1, 3)
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('i', g)))
          FROM generate_series(1, :n) g));
SQL
# Create the aggregates first, one writer: concurrent first appends to one new
# aggregate can fail in the extension ("wrong expected version"), which is not
# what this test is about.
es_psql -c "SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(a::text, 12, '0'))::uuid, 'cart', 0,
              '[{\"type\":\"Opened\"}]') FROM generate_series(1, 30) a" >/dev/null
"$PGBIN/pgbench" -n -c 4 -j 2 -t 150 -f "$TMP/append.sql" >"$TMP/pgbench.log" 2>&1 ||
	{
		cat "$TMP/pgbench.log"
		es_die "pgbench failed"
	}
es_check "the relay confirmed the slot up to the end of the writes" es_wait_caught_up relay_moto 90

curl -fsS "http://127.0.0.1:$MPORT/metrics" >"$TMP/metrics.txt" || true
es_check "metrics are served" grep -q '^eventrelay_sink_records_total{sink="kinesis"}' "$TMP/metrics.txt"

kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "SIGTERM: clean exit" 0 "$rc"
es_check "the final LSN is reported" grep -q '"msg":"stopped","confirmed_lsn"' "$TMP/relay.log"

es_kinesis_read "$ES_MOTO_URL" events >"$TMP/read.ndjson"
result=$(es_check_events "$TMP/read.ndjson") && ok=1 || ok=0
echo "# $result"
es_eq "every event arrived once, in version order per aggregate" "1 dups=0" "$ok $(grep -o 'dups=[0-9]*' <<<"$result")"
es_check "no dead letters" test ! -s "$TMP/dl.ndjson"

# --- configuration errors stop the relay with exit 2 ------------------------------
rc=0
AWS_SECRET_ACCESS_KEY=wrong-secret timeout 30 "$RELAY" --dbname "$(es_relay_dsn)" --slot relay_moto \
	--stream events --endpoint-url "$ES_MOTO_URL" --region us-east-1 --dead-letter "$TMP/dl2.ndjson" \
	2>"$TMP/badkey.log" &
BAD=$!
sleep 1
es_psql -c "SELECT eventstore.append(gen_random_uuid(), 'cart', 0, '[{\"type\":\"X\"}]')" >/dev/null
wait "$BAD" || rc=$?
es_eq "a wrong signature stops the relay with exit 2" 2 "$rc"
es_check "and says why" grep -q 'Signature' "$TMP/badkey.log"

rc=0
timeout 30 "$RELAY" --dbname "$(es_relay_dsn)" --slot relay_moto --stream no-such-stream \
	--endpoint-url "$ES_MOTO_URL" --region us-east-1 --dead-letter "$TMP/dl3.ndjson" \
	2>"$TMP/nostream.log" || rc=$?
es_eq "an unknown stream stops the relay with exit 2" 2 "$rc"
es_check "and says why" grep -q 'ResourceNotFoundException' "$TMP/nostream.log"

rc=0
timeout 30 "$RELAY" --dbname "$(es_relay_dsn)" --slot no_such_slot --sink stdout >/dev/null \
	2>"$TMP/noslot.log" || rc=$?
es_eq "a missing slot stops the relay with exit 3" 3 "$rc"

es_done
