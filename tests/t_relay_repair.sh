#!/usr/bin/env bash
#
# t_relay_repair.sh - --repair-slot: the slot is lost while writers append
# events, three times: dropped, then recreated by someone else (ahead of the
# relay's state file), then dropped under the running relay.  Without the option the relay stops with exit 3;
# with it, it recreates the slot and re-publishes from eventstore.events
# every aggregate from its first row whose xmin is at or above the xmin
# horizon the state file recorded with the confirmed position, then
# streams the new slot.  Read back with the AWS CLI from kinesalite: after
# dedupe on (aggregate_id, version) nothing is missing and first
# occurrences are in version order per aggregate.
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
TMP=$ES_TMP

RELAY_PID=
es_on_exit 'kill -9 $RELAY_PID'
start_relay() { # start_relay [extra flags]
	"$RELAY" --dbname "$(es_relay_dsn)" --slot repair --create-slot --state-file "$TMP/state" \
		--stream events --endpoint-url "$ES_KINESALITE_URL" --region us-east-1 \
		--linger-ms 5 --retry-base-ms 10 --retry-max-ms 200 --status-interval 1 \
		--reconnect-max 1 --dead-letter "$TMP/dl.ndjson" "$@" 2>>"$TMP/relay.log" &
	RELAY_PID=$!
}
stop_relay() {
	kill -9 "$RELAY_PID" 2>/dev/null || true
	wait "$RELAY_PID" 2>/dev/null || true
}
slot_exists() { [[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'repair'") == 1 ]]; }

cat >"$TMP/append.sql" <<'SQL'
\set a random(1, 300)
\set n random(1, 3)
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('i', g)))
          FROM generate_series(1, :n) g));
SQL
# long transactions too: each holds its appends open for a while, so some are
# in flight whenever the horizon is sampled and when the slot goes
cat >"$TMP/long.sql" <<'SQL'
\set a random(1, 300)
BEGIN;
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       '[{"type":"LongOne"}]');
SELECT pg_sleep(0.7);
COMMIT;
SQL
start_relay
for ((i = 0; i < 100; i++)); do slot_exists && break; sleep 0.1; done
es_psql -c "SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(a::text, 12, '0'))::uuid, 'cart', 0,
              '[{\"type\":\"Opened\"}]') FROM generate_series(1, 300) a" >/dev/null
"$PGBIN/pgbench" -n -c 6 -j 2 -T 26 -R 100 -f "$TMP/append.sql@9" -f "$TMP/long.sql@1" >"$TMP/pgbench.log" 2>&1 &
W=$!
sleep 7
es_check "the state file records an xmin horizon" grep -q '^xmin_horizon=[1-9]' "$TMP/state"

# --- 1: the slot is dropped while writers run ---------------------------------------
stop_relay
es_psql -c "SELECT pg_drop_replication_slot('repair')" >/dev/null
sleep 2 # events committed now have no slot
start_relay
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "without --repair-slot a gone slot is exit 3" 3 "$rc"
start_relay --repair-slot
for ((i = 0; i < 100; i++)); do grep -q '"msg":"repair done' "$TMP/relay.log" && break; sleep 0.1; done
es_check "dropped slot: recreated and repaired" grep -q '"msg":"repair done' "$TMP/relay.log"
sleep 3

# --- 2: someone else recreates the slot (ahead of the state file) ---------------------
stop_relay
es_psql -c "SELECT pg_drop_replication_slot('repair')" >/dev/null
sleep 1.5
es_psql -c "SELECT pg_create_logical_replication_slot('repair', '$ES_RELAY_PLUGIN')" >/dev/null
sleep 1
start_relay
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "without --repair-slot a recreated slot is exit 3" 3 "$rc"
start_relay --repair-slot
for ((i = 0; i < 100; i++)); do (($(grep -c '"msg":"repair done' "$TMP/relay.log") >= 2)) && break; sleep 0.1; done
es_eq "recreated slot: dropped, recreated and repaired" 2 "$(grep -c '"msg":"repair done' "$TMP/relay.log")"
sleep 2

# --- 3: the slot is dropped under the running relay ---------------------------------------
dropped=0
for ((i = 0; i < 100; i++)); do
	es_psql -c "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
	            WHERE slot_name = 'repair' AND active_pid IS NOT NULL" >/dev/null
	es_psql -c "SELECT pg_drop_replication_slot('repair')" >/dev/null 2>&1 && { dropped=1; break; }
done
es_eq "slot dropped between the relay's reconnects" 1 "$dropped"
for ((i = 0; i < 100; i++)); do (($(grep -c '"msg":"repair done' "$TMP/relay.log") >= 3)) && break; sleep 0.1; done
es_eq "the running relay recreated the slot and repaired" 3 "$(grep -c '"msg":"repair done' "$TMP/relay.log")"
es_check "the same relay process did it" kill -0 "$RELAY_PID"

wait "$W" || es_die "writers failed: $(tail -n 5 "$TMP/pgbench.log")"
es_check "the relay caught up" es_wait_caught_up repair 90
kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "SIGTERM: clean exit" 0 "$rc"

es_kinesis_read "$ES_KINESALITE_URL" events >"$TMP/read.ndjson"
result=$(es_check_events "$TMP/read.ndjson") && ok=1 || ok=0
repaired=$(grep '"msg":"repair done' "$TMP/relay.log" | sed -E 's/.*"events":"([0-9]+)".*/\1/' | paste -sd+)
echo "# slot lost three times while writing; events re-published by the repairs: $repaired; $result"
es_eq "0 missing after dedupe, first deliveries in version order per aggregate" 1 "$ok"
es_check "no dead letters" test ! -s "$TMP/dl.ndjson"
es_done
