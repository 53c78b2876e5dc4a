#!/usr/bin/env bash
#
# t_relay_pg_crash.sh - after a PostgreSQL crash, transactions the relay's
# state file shows as confirmed are not sent again.  The server keeps a
# logical slot's confirmed_flush_lsn in memory and writes it to disk only at
# checkpoints (and when restart_lsn moves), so after a crash it resends from
# an older position; the relay skips what is below its own durable position.
# Relay (stdout sink, --state-file) streams a first batch and confirms it,
# is killed, PostgreSQL crashes (immediate stop), the slot is seen behind the
# state file; the relay comes back, a second batch is written: the output
# holds every event exactly once.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need python3
RELAY=${ES_RELAY_BIN:-$(es_relay_bin)} # ES_RELAY_BIN: another build, for a before/after
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
TMP=$ES_TMP

RELAY_PID=
start_relay() {
	"$RELAY" --dbname "$(es_relay_dsn)" --slot crash --create-slot --sink stdout \
		--state-file "$TMP/state" --status-interval 1 --reconnect-max 1 --linger-ms 5 \
		>>"$TMP/out.ndjson" 2>>"$TMP/relay.log" &
	RELAY_PID=$!
}
es_on_exit 'kill -9 $RELAY_PID'
state_lsn() { sed -n 's/^confirmed_lsn=//p' "$TMP/state"; }
batch() { # batch N: N transactions of 2 events on 50 aggregates
	local i
	for ((i = 0; i < $1; i++)); do
		echo "SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad((($i % 50) + 1)::text, 12, '0'))::uuid,
			'cart', NULL, '[{\"type\":\"A\"},{\"type\":\"B\"}]');"
	done | es_psql >/dev/null
}

start_relay
for ((i = 0; i < 100; i++)); do
	[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'crash'") == 1 ]] && break
	sleep 0.1
done
# a checkpoint now: the slot on disk is at its start, everything after is in memory only
es_psql -c CHECKPOINT
batch 300
es_check "the relay confirmed the first batch" es_wait_caught_up crash 30
sleep 1.5 # the state file is written before each confirmation, at most 1 s apart
kill -9 "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null || true
before=$(state_lsn)
es_as_pg "$PGBIN/pg_ctl" -D "$ES_PGDATA" -m immediate -w stop >/dev/null
es_as_pg "$PGBIN/pg_ctl" -D "$ES_PGDATA" -l "$ES_PGLOG" -w -t 60 start >/dev/null ||
	es_die "PostgreSQL did not start after the crash"
slot=$(es_psql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'crash'")
es_check "after the crash the slot ($slot) is behind the state file ($before): the server would resend" \
	test "$(es_psql -c "SELECT '$slot'::pg_lsn < '$before'::pg_lsn")" = t

start_relay
batch 100
es_check "the relay confirmed the second batch" es_wait_caught_up crash 30
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" || true
result=$(es_check_events "$TMP/out.ndjson") && ok=1 || ok=0
echo "# $result"
es_eq "nothing lost, in order per aggregate" 1 "$ok"
es_eq "no confirmed transaction was sent again after the crash" "dups=0" "$(grep -o 'dups=[0-9]*' <<<"$result")"
es_check "the relay said it skipped what the server resent" grep -q 'resends transactions this relay confirmed' "$TMP/relay.log"
es_done
