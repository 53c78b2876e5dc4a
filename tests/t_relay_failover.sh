#!/usr/bin/env bash
#
# t_relay_failover.sh - the relay follows a promotion (PostgreSQL 17+
# failover slots, docs/failover.md).  A primary (synchronized_standby_slots)
# and a physical standby made with pg_basebackup (sync_replication_slots,
# hot_standby_feedback, its own physical slot) on loopback; the relay
# connects with a two-host connection string and target_session_attrs=
# read-write and creates its slot as a failover slot; writers append; once
# the slot is synchronised the primary crashes mid-stream and the standby is
# promoted; writers go on against it.  Read back from kinesalite with the AWS
# CLI against the new primary's events table: 0 missing, nothing extra (no
# event the new primary lacks), first deliveries in version order.
#
# versions: 17
PG_MAJOR=${PG_MAJOR:-17}
set -Eeuo pipefail
if ((PG_MAJOR < 17)); then
	echo "skipped: failover slots need PostgreSQL 17 or later (PG_MAJOR=$PG_MAJOR)"
	exit 77
fi
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need aws jq python3 node
RELAY=$(es_relay_bin)
es_install_extension
es_cluster_start "synchronized_standby_slots = 'standby1'" "wal_sender_timeout = '10s'"
es_psql -c 'CREATE EXTENSION eventstore'
es_kinesalite_start
es_kinesis_create "$ES_KINESALITE_URL" events 2
TMP=$ES_TMP
P_PORT=$PGPORT
P_SOCK=$ES_PGSOCK

# --- the standby ------------------------------------------------------------------
S_DATA=$TMP/standby
S_SOCK=$TMP/sock2
S_PORT=$(es_free_port)
mkdir -p "$S_SOCK"
es_chown_pg "$S_SOCK"
es_as_pg "$PGBIN/pg_basebackup" -h "$P_SOCK" -p "$P_PORT" -U postgres -D "$S_DATA" -R -C -S standby1 \
	-X stream >"$TMP/basebackup.log" 2>&1 || es_die "pg_basebackup failed: $(tail -n 3 "$TMP/basebackup.log")"
# postgresql.auto.conf (written by -R) wins over postgresql.conf: settings go there
cat >>"$S_DATA/postgresql.auto.conf" <<EOF
port = $S_PORT
unix_socket_directories = '$S_SOCK'
synchronized_standby_slots = ''
sync_replication_slots = on
hot_standby_feedback = on
primary_slot_name = 'standby1'
primary_conninfo = 'host=$P_SOCK port=$P_PORT user=postgres dbname=postgres application_name=standby1'
EOF
es_as_pg "$PGBIN/pg_ctl" -D "$S_DATA" -l "$TMP/standby.log" -w -t 60 start >/dev/null ||
	es_die "the standby did not start: $(tail -n 5 "$TMP/standby.log")"
es_on_exit "es_as_pg '$PGBIN/pg_ctl' -D '$S_DATA' -m immediate -w stop"
spsql() { es_psql -h "$S_SOCK" -p "$S_PORT" "$@"; }
es_eq "the standby is in recovery" t "$(spsql -c 'SELECT pg_is_in_recovery()')"

# --- the relay ---------------------------------------------------------------------
DSN="host=127.0.0.1,127.0.0.1 port=$P_PORT,$S_PORT dbname=postgres user=postgres target_session_attrs=read-write connect_timeout=2"
"$RELAY" --dbname "$DSN" --slot failover --create-slot --state-file "$TMP/state" \
	--stream events --endpoint-url "$ES_KINESALITE_URL" --region us-east-1 \
	--linger-ms 5 --status-interval 1 --reconnect-max 1 --dead-letter "$TMP/dl.ndjson" \
	2>"$TMP/relay.log" &
RELAY_PID=$!
es_on_exit "kill -9 $RELAY_PID"
for ((i = 0; i < 100; i++)); do
	[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'failover'") == 1 ]] && break
	sleep 0.1
done
es_eq "the relay created a failover slot" t "$(es_psql -c "SELECT failover FROM pg_replication_slots WHERE slot_name = 'failover'")"
ident_before=$(es_psql -c "SELECT system_identifier FROM pg_control_system()")

es_psql -c "SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(a::text, 12, '0'))::uuid, 'cart', 0,
              '[{\"type\":\"Opened\"}]') FROM generate_series(1, 200) a" >/dev/null
cat >"$TMP/append.sql" <<'SQL'
\set a random(1, 200)
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       '[{"type":"ItemAdded"},{"type":"ItemAdded"}]');
SQL
writers() { # writers HOST PORT SECONDS (errors when the server goes away are expected)
	"$PGBIN/pgbench" -h "$1" -p "$2" -n -c 4 -j 2 -T "$3" -R 100 -f "$TMP/append.sql" postgres \
		>>"$TMP/pgbench.log" 2>&1 || true
}
writers 127.0.0.1 "$P_PORT" 12 &
W=$!

# the slot is synchronised to the standby (the sync worker copies it every few seconds)
synced=
for ((i = 0; i < 300; i++)); do
	synced=$(spsql -c "SELECT synced AND confirmed_flush_lsn IS NOT NULL FROM pg_replication_slots WHERE slot_name = 'failover'")
	[[ $synced == t ]] && break
	sleep 0.1
done
es_eq "the standby has a synchronised copy of the slot" t "$synced"
sleep 2
before=$(es_psql -c "SELECT count(*) FROM eventstore.events")

# --- the primary crashes mid-stream; the standby is promoted -----------------------
t0=$(date +%s%N)
es_as_pg "$PGBIN/pg_ctl" -D "$ES_PGDATA" -m immediate -w stop >/dev/null
es_as_pg "$PGBIN/pg_ctl" -D "$S_DATA" -w -t 60 promote >/dev/null || es_die "promote failed"
wait "$W" || true
ident_after=$(spsql -c "SELECT system_identifier FROM pg_control_system()")
es_eq "the promoted standby has the primary's system identifier" "$ident_before" "$ident_after"
followed=
for ((i = 0; i < 300; i++)); do
	if [[ $(spsql -c "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'eventrelay'") == 1 ]]; then
		followed=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.1
done
[[ -n $followed ]] && es_ok "the relay streams from the new primary ($followed ms after the crash)" ||
	es_not_ok "the relay did not follow: $(tail -n 5 "$TMP/relay.log")"
writers 127.0.0.1 "$S_PORT" 6

export PGHOST=$S_SOCK PGPORT=$S_PORT
es_check "the relay caught up on the new primary" es_wait_caught_up failover 60
kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "the relay stopped cleanly" 0 "$rc"

es_kinesis_read "$ES_KINESALITE_URL" events >"$TMP/read.ndjson"
result=$(es_check_events "$TMP/read.ndjson") && ok=1 || ok=0
echo "# $result"
echo "# failover: $before events before the crash, $(es_psql -c 'SELECT count(*) FROM eventstore.events') on the new primary at the end; relay streaming from it ${followed:-?} ms after the crash"
es_eq "nothing lost, nothing extra, first deliveries in version order per aggregate" 1 "$ok"
es_check "no dead letters" test ! -s "$TMP/dl.ndjson"
es_done
