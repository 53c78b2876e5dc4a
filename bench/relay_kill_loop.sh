#!/usr/bin/env bash
#
# relay_kill_loop.sh - how many records a relay kill and a PostgreSQL crash
# send twice.  4 writers append for SECONDS (default 60) while the relay
# (Kinesis sink, kinesalite, --state-file) is killed with SIGKILL KILLS times
# (default 16) and restarted; the stream is read back (AWS CLI) and the
# duplicates counted.  Then one crash: PostgreSQL stops immediately (no
# checkpoint: the slot's confirmed position on disk is older than in memory)
# and the relay dies with it (a host failure), both come back, writers go on;
# read back again: the difference is the crash's duplicates.  Nothing may be
# missing or out of order per aggregate.
#
#   bench/relay_kill_loop.sh [SECONDS] [KILLS]
#   ES_RELAY_BIN=/path/to/eventrelay bench/relay_kill_loop.sh   (another build: before/after)
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/lib_aws.sh"
SECS=${1:-60}
KILLS=${2:-16}
RELAY=${ES_RELAY_BIN:-$(es_relay_bin)}
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
es_kinesalite_start
es_kinesis_create "$ES_KINESALITE_URL" events 2
TMP=$ES_TMP

RELAY_PID=
start_relay() {
	"$RELAY" --dbname "$(es_relay_dsn)" --slot killloop --create-slot --state-file "$TMP/state" \
		--stream events --endpoint-url "$ES_KINESALITE_URL" --region us-east-1 \
		--linger-ms 5 --status-interval 1 --reconnect-max 1 --dead-letter "$TMP/dl.ndjson" \
		2>>"$TMP/relay.log" &
	RELAY_PID=$!
}
es_on_exit 'kill -9 $RELAY_PID'
start_relay
for ((i = 0; i < 100; i++)); do
	[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'killloop'") == 1 ]] && break
	sleep 0.1
done
es_psql -c "SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(a::text, 12, '0'))::uuid, 'cart', 0,
              '[{\"type\":\"Opened\"}]') FROM generate_series(1, 400) a" >/dev/null
cat >"$TMP/append.sql" <<'SQL'
\set a random(1, 400)
\set n random(1, 3)
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('i', g)))
          FROM generate_series(1, :n) g));
SQL
writers() { "$PGBIN/pgbench" -n -c 4 -j 2 -T "$1" -R 300 -f "$TMP/append.sql" >>"$TMP/pgbench.log" 2>&1 || true; }
dups() { es_kinesis_read "$ES_KINESALITE_URL" events >"$TMP/read.ndjson"; es_check_events "$TMP/read.ndjson"; }

writers "$SECS" &
W=$!
gap=$(awk -v s="$SECS" -v k="$KILLS" 'BEGIN{printf "%.2f", (s - 4) / k}')
for ((k = 0; k < KILLS; k++)); do
	sleep "$gap"
	kill -9 "$RELAY_PID" 2>/dev/null || true
	wait "$RELAY_PID" 2>/dev/null || true
	start_relay
done
wait "$W"
es_wait_caught_up killloop 120 || es_die "the relay did not catch up after the kills"
r1=$(dups) || es_die "after the kills: $r1"
d1=$(sed -E 's/.* dups=([0-9]+).*/\1/' <<<"$r1")

writers 6 &
W=$!
sleep 3
kill -9 "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null || true
es_as_pg "$PGBIN/pg_ctl" -D "$ES_PGDATA" -m immediate -w stop >/dev/null
wait "$W"
es_as_pg "$PGBIN/pg_ctl" -D "$ES_PGDATA" -l "$ES_PGLOG" -w -t 60 start >/dev/null || es_die "PostgreSQL did not restart"
start_relay
writers 3
es_wait_caught_up killloop 120 || es_die "the relay did not catch up after the crash"
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" || true
r2=$(dups) || es_die "after the crash: $r2"
d2=$(sed -E 's/.* dups=([0-9]+).*/\1/' <<<"$r2")
ev=$(sed -E 's/^events=([0-9]+).*/\1/' <<<"$r2")
printf 'kill loop (%s): %s s, %d kills, 1 crash; %s; duplicates: %d after the kills (%.1f per kill), %d from the crash; records %d for %d events (%.1f%% duplicates)\n' \
	"$("$RELAY" --version 2>&1 | head -n 1)" "$SECS" "$KILLS" "$r2" "$d1" "$(echo "$d1 / $KILLS" | bc -l)" $((d2 - d1)) $((ev + d2)) "$ev" "$(echo "100 * $d2 / $ev" | bc -l)"
