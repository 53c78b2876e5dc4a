#!/usr/bin/env bash
#
# t_relay_slot.sh - the relay and its replication slot:
#   - two sinks at once (kinesis + stdout): both get every event;
#   - while only other tables are written, the slot keeps advancing (the
#     relay confirms the WAL end of keepalives), so it pins a bounded amount
#     of WAL (RELAY_IDLE_SECONDS, default 20, sets how long);
#   - a slot recreated or dropped behind the relay's back is detected across
#     relay restarts (--state-file): exit 3, unless --accept-slot-position;
#   - an invalidated slot (wal_status lost) stops the relay with exit 3 and
#     a clear message, and the relay does not create a slot over the gap.
#
# matrix: every PostgreSQL version
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need aws jq python3 node
RELAY=$(es_relay_bin)
# The limit stays high while the slot is healthy: restart_lsn only moves at a
# running-xacts record (every 15 s, and at each checkpoint), and 15 s of the
# churn below is more than 64MB, so a small limit would invalidate even a
# slot whose relay confirms everything (seen on PostgreSQL 18).  The last
# section lowers it to get a slot invalidated.
es_cluster_start "max_slot_wal_keep_size = 1GB" "checkpoint_timeout = 30s"
es_psql -c 'CREATE EXTENSION eventstore'
es_relay_prepare
es_kinesalite_start
es_kinesis_create "$ES_KINESALITE_URL" events 1
TMP=$ES_TMP
IDLE=${RELAY_IDLE_SECONDS:-20}

"$RELAY" --dbname "$(es_relay_dsn)" --slot relay_slot --create-slot \
	--sink kinesis --sink stdout --stream events --endpoint-url "$ES_KINESALITE_URL" \
	--region us-east-1 --status-interval 1 --dead-letter "$TMP/dl.ndjson" \
	>"$TMP/stdout.ndjson" 2>"$TMP/relay.log" &
RELAY_PID=$!
es_on_exit "kill -9 $RELAY_PID"
for ((i = 0; i < 100; i++)); do
	[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name='relay_slot'") == 1 ]] && break
	sleep 0.1
done

# --- two sinks ----------------------------------------------------------------
es_psql <<'SQL' >/dev/null
SELECT eventstore.append(gen_random_uuid(), 'cart', 0,
       (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('i', g)))
          FROM generate_series(1, 5) g))
  FROM generate_series(1, 200);
SQL
es_check "caught up with two sinks" es_wait_caught_up relay_slot 60
es_kinesis_read "$ES_KINESALITE_URL" events >"$TMP/read.ndjson"
es_check "kinesis sink: all 1000 events, in order" es_check_events "$TMP/read.ndjson"
es_check "stdout sink: all 1000 events, in order" es_check_events "$TMP/stdout.ndjson"

# --- only other tables are written: the slot must not pin WAL --------------------
es_psql -c "CREATE TABLE churn (id bigserial, pad text)"
start_lsn=$(es_psql -c "SELECT pg_current_wal_lsn()")
end=$((SECONDS + IDLE))
peak=0 # the most WAL the healthy slot held during the churn
while ((SECONDS < end)); do
	held=$(es_psql -c "INSERT INTO churn (pad) SELECT repeat('x', 500) FROM generate_series(1, 5000)" \
		-c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = 'relay_slot'" | tail -1)
	((${held:-0} > peak)) && peak=$held
	sleep 0.5
done
echo "# most WAL the slot held while only other tables were written: $peak bytes"
es_psql -c "CHECKPOINT" >/dev/null
# Measured against the WAL position at the end of the churn: autovacuum and
# checkpoints keep writing WAL afterwards, so "now" is a moving target.
end_lsn=$(es_psql -c "SELECT pg_current_wal_lsn()")
written=$(es_psql -c "SELECT pg_wal_lsn_diff('$end_lsn', '$start_lsn')::bigint")
# give the relay up to 20 s to confirm it and the server to move restart_lsn
for ((i = 0; i < 100; i++)); do
	read -r confirmed_past moved < <(es_psql -F ' ' -c "
		SELECT confirmed_flush_lsn >= '$end_lsn',
		       pg_wal_lsn_diff(restart_lsn, '$start_lsn')::bigint
		  FROM pg_replication_slots WHERE slot_name = 'relay_slot'")
	[[ $confirmed_past == t ]] && ((moved > written / 2)) && break
	sleep 0.2
done
echo "# other-table WAL written: $written bytes; restart_lsn moved $moved bytes; confirmed past the end: $confirmed_past"
es_eq "confirmed_flush follows the WAL end while no events are written" t "$confirmed_past"
es_check "restart_lsn moved on: the slot pins less than half of the WAL written" \
	test "$moved" -gt $((written / 2))

kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "clean shutdown" 0 "$rc"

# --- a slot recreated behind the relay's back (state file) -----------------------
run_state() { # run_state EXTRA_FLAGS...: relay with a state file, until caught up, then SIGTERM
	"$RELAY" --dbname "$(es_relay_dsn)" --slot relay_state --state-file "$TMP/state" --sink stdout \
		--status-interval 1 "$@" >>"$TMP/state-out.ndjson" 2>>"$TMP/state.log" &
	local pid=$! rc=0
	es_wait_caught_up relay_state 30 || true
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	return $rc
}
append_some() {
	es_psql -c "SELECT eventstore.append(gen_random_uuid(), 'cart', 0, '[{\"type\":\"X\"}]') FROM generate_series(1, 20)" >/dev/null
}
run_state --create-slot
append_some
es_check "state file: a normal restart resumes" run_state
es_check "the state file records the confirmed position" grep -q '^confirmed_lsn=' "$TMP/state"
append_some # events the recreated slot will never see
es_psql -c "SELECT pg_drop_replication_slot('relay_state')" >/dev/null
es_psql -c "SELECT pg_create_logical_replication_slot('relay_state', '$ES_RELAY_PLUGIN')" >/dev/null
rc=0
timeout 30 "$RELAY" --dbname "$(es_relay_dsn)" --slot relay_state --state-file "$TMP/state" \
	--sink stdout >/dev/null 2>"$TMP/recreated.log" || rc=$?
es_eq "a recreated slot stops the relay with exit 3" 3 "$rc"
es_check "saying it was recreated or advanced" grep -q 'recreated or advanced' "$TMP/recreated.log"
es_psql -c "SELECT pg_drop_replication_slot('relay_state')" >/dev/null
rc=0
timeout 30 "$RELAY" --dbname "$(es_relay_dsn)" --slot relay_state --state-file "$TMP/state" \
	--create-slot --sink stdout >/dev/null 2>"$TMP/dropped.log" || rc=$?
es_eq "a dropped slot is not recreated over the gap, even with --create-slot (exit 3)" 3 "$rc"
es_check "--accept-slot-position starts anew" run_state --create-slot --accept-slot-position
es_check "and the next restart is normal again" run_state

# --- plugin filters pass through -------------------------------------------------
es_psql -c "SELECT pg_create_logical_replication_slot('relay_filter', '$ES_RELAY_PLUGIN')" >/dev/null
es_psql -c "SELECT eventstore.append(gen_random_uuid(), t, 0, '[{\"type\":\"Opened\"},{\"type\":\"Closed\"}]')
              FROM unnest(ARRAY['cart', 'order', 'cart']) t" >/dev/null
end_lsn=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
timeout 30 "$RELAY" --dbname "$(es_relay_dsn)" --slot relay_filter --sink stdout \
	--aggregate-types order --event-types Closed --end-lsn "$end_lsn" >"$TMP/filtered.ndjson" 2>>"$TMP/filter.log" || true
es_eq "--aggregate-types/--event-types reach the plugin" "order Closed" \
	"$(jq -r '.aggregate_type + " " + .type' "$TMP/filtered.ndjson" | sort -u | tr '\n' ' ' | sed 's/ $//')"

# --- an invalidated slot ---------------------------------------------------------
es_psql -c "ALTER SYSTEM SET max_slot_wal_keep_size = '64MB'" >/dev/null
es_psql -c "SELECT pg_reload_conf()" >/dev/null
es_psql -c "SELECT pg_create_logical_replication_slot('relay_lost', '$ES_RELAY_PLUGIN')" >/dev/null
for ((i = 0; i < 12; i++)); do
	es_psql -c "INSERT INTO churn (pad) SELECT repeat('y', 1000) FROM generate_series(1, 20000); SELECT pg_switch_wal()" >/dev/null
	es_psql -c "CHECKPOINT" >/dev/null
	[[ $(es_psql -c "SELECT wal_status FROM pg_replication_slots WHERE slot_name='relay_lost'") == lost ]] && break
done
if [[ $(es_psql -c "SELECT wal_status FROM pg_replication_slots WHERE slot_name='relay_lost'") == lost ]]; then
	rc=0
	timeout 30 "$RELAY" --dbname "$(es_relay_dsn)" --slot relay_lost --create-slot --sink stdout \
		>/dev/null 2>"$TMP/lost.log" || rc=$?
	es_eq "an invalidated slot stops the relay with exit 3" 3 "$rc"
	es_check "with a message that says so" grep -q 'invalidated' "$TMP/lost.log"
else
	es_not_ok "could not get the slot invalidated (wal_status $(es_psql -c "SELECT wal_status FROM pg_replication_slots WHERE slot_name='relay_lost'"))"
fi
es_done
