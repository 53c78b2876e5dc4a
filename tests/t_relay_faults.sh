#!/usr/bin/env bash
#
# t_relay_faults.sh - at-least-once and per-aggregate order under faults.
# PostgreSQL + extension + eventrelay -> fault proxy -> kinesalite, while
# concurrent writers append events:
#   - the proxy fails ~20% of the records of each PutRecords with
#     ProvisionedThroughputExceeded, throttles whole requests now and then,
#     and drops some responses after kinesalite stored the records;
#   - the relay is killed with SIGKILL every few seconds and restarted (at
#     random points: before, during (answers are held 100 ms) and after a
#     PutRecords, and between the acknowledgement and the feedback to
#     PostgreSQL, which follows within 200 ms);
#   - PostgreSQL is restarted under the running relay;
#   - the emulator endpoint goes away for a few seconds and comes back.
# Read back with the AWS CLI: nothing may be missing, first deliveries must be
# in version order per aggregate; duplicates are allowed and counted.
# RELAY_FAULT_SECONDS (default 12) sets the length of the kill phase.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need aws jq python3 node
RELAY=$(es_relay_bin)
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
es_relay_prepare
es_kinesalite_start
es_kinesis_create "$ES_KINESALITE_URL" events 2
# answers held 100 ms: a SIGKILL at a random moment often lands mid-request
es_fault_proxy_start "$ES_KINESALITE_URL" --fail-pct 20 --throttle-pct 3 --drop-pct 3 --delay-ms 100
TMP=$ES_TMP
PHASE=${RELAY_FAULT_SECONDS:-10}

RELAY_PID=
start_relay() {
	"$RELAY" --dbname "$(es_relay_dsn)" --slot relay_faults --create-slot \
		--stream events --endpoint-url "$ES_PROXY_URL" --region us-east-1 \
		--linger-ms 5 --retry-base-ms 10 --retry-max-ms 200 --request-timeout-ms 3000 \
		--status-interval 1 --reconnect-max 1 --dead-letter "$TMP/dl.ndjson" \
		2>>"$TMP/relay.log" &
	RELAY_PID=$!
}
es_on_exit 'kill -9 $RELAY_PID'

cat >"$TMP/append.sql" <<'SQL'
\set a random(1, 400)
\set n random(1, 3)
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('i', g)))
          FROM generate_series(1, :n) g));
SQL
writers() { # writers SECONDS: 4 clients, ~120 transactions/s in all
	"$PGBIN/pgbench" -n -c 4 -j 2 -T "$1" -R 120 -f "$TMP/append.sql" >>"$TMP/pgbench.log" 2>&1
}

start_relay
for ((i = 0; i < 100; i++)); do
	[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name='relay_faults'") == 1 ]] && break
	sleep 0.1
done
# Create the aggregates first, one writer: concurrent first appends to one new
# aggregate can fail in the extension ("wrong expected version"), which is not
# what this test is about.
es_psql -c "SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(a::text, 12, '0'))::uuid, 'cart', 0,
              '[{\"type\":\"Opened\"}]') FROM generate_series(1, 400) a" >/dev/null

# --- phase 1: SIGKILL the relay every 1.5-3 s while writers append ---------------
writers "$PHASE" &
W=$!
kills=0
end=$((SECONDS + PHASE))
while ((SECONDS < end)); do
	sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 1.5 + (r % 150) / 100}')"
	kill -9 "$RELAY_PID" 2>/dev/null || true
	wait "$RELAY_PID" 2>/dev/null || true
	kills=$((kills + 1))
	start_relay
done
wait "$W" || es_die "writers failed: $(tail -n 5 "$TMP/pgbench.log")"
es_ok "relay killed with SIGKILL $kills times while writing"

# --- phase 2: restart PostgreSQL under the running relay ------------------------
streaming_lines() { grep -c "\"pid\":$RELAY_PID,\"msg\":\"streaming\"" "$TMP/relay.log" || true; }
wait_streaming() { # wait_streaming N: until the current relay logged N "streaming" lines
	local i
	for ((i = 0; i < 150; i++)); do
		(($(streaming_lines) >= $1)) && return 0
		sleep 0.1
	done
	tail -n 20 "$TMP/relay.log" >&2
	return 1
}
wait_streaming 1 || es_die "the relay did not start streaming"
es_cluster_restart || es_die "PostgreSQL restart failed"
es_check "the relay reconnected after the PostgreSQL restart" wait_streaming 2
writers 3

# --- phase 3: the endpoint goes away for 3 s while writers append ---------------
writers 6 &
W=$!
sleep 1.5
es_fault_proxy_stop
sleep 3
es_fault_proxy_start "$ES_KINESALITE_URL" --fail-pct 20 --throttle-pct 3 --drop-pct 3 --delay-ms 100
wait "$W" || es_die "writers failed"

es_check "the relay caught up after all faults" es_wait_caught_up relay_faults 90
kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "the last relay stopped cleanly" 0 "$rc"

es_kinesis_read "$ES_KINESALITE_URL" events >"$TMP/read.ndjson"
result=$(es_check_events "$TMP/read.ndjson") && ok=1 || ok=0
echo "# $result"
echo "# proxy: $(cat "$TMP/proxy-stats.json" 2>/dev/null)"
es_eq "nothing lost, first deliveries in version order per aggregate" 1 "$ok"
es_check "partial failures were injected" \
	python3 -c "import json,sys; s=json.load(open('$TMP/proxy-stats.json')); sys.exit(0 if s['failed_records'] > 0 else 1)"
es_check "no dead letters" test ! -s "$TMP/dl.ndjson"
es_done
