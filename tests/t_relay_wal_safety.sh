#!/usr/bin/env bash
#
# t_relay_wal_safety.sh - the slot's WAL retention in metrics and logs
# (--wal-check-interval).  max_slot_wal_keep_size = 64MB; the relay's Kinesis
# endpoint (kinesalite) is stopped with SIGSTOP after the start, so an event stays
# unacknowledged and the slot cannot move while WAL is written (one segment
# per pg_switch_wal): the metrics show wal_status, the retained WAL and
# safe_wal_size shrinking, the log warns below half of the limit, then the
# slot goes past the limit (unreserved, an error line).  (That a lost slot
# stops the relay with exit 3 is t_relay_slot.sh's.)
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need python3 curl node aws
RELAY=$(es_relay_bin)
es_cluster_start "max_slot_wal_keep_size = '64MB'" "wal_keep_size = 0" "min_wal_size = '32MB'" "max_wal_size = '1GB'"
es_psql -c 'CREATE EXTENSION eventstore'
TMP=$ES_TMP

es_kinesalite_start
es_kinesis_create "$ES_KINESALITE_URL" events 1
KPID=$(pgrep -f "listen\\(${ES_KINESALITE_URL##*:}," | head -n 1)
[[ -n $KPID ]] || es_die "kinesalite's process not found"

MPORT=$(es_free_port)
"$RELAY" --dbname "$(es_relay_dsn)" --slot walsafe --create-slot --stream events --region us-east-1 \
	--endpoint-url "$ES_KINESALITE_URL" --request-timeout-ms 600000 \
	--wal-check-interval 1 --shutdown-timeout 1 --metrics-port "$MPORT" --status-interval 1 --dead-letter "$TMP/dl.ndjson" \
	2>"$TMP/relay.log" &
RELAY_PID=$!
es_on_exit "kill -9 $RELAY_PID"
metric() { curl -fsS "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
wait_metric() { # wait_metric NAME AWK_CONDITION_ON_V
	local i v
	for ((i = 0; i < 100; i++)); do
		v=$(metric "$1" 2>/dev/null || true)
		[[ -n $v ]] && awk -v v="$v" "BEGIN{exit !($2)}" && return 0
		sleep 0.1
	done
	echo "# $1 = ${v:-absent}" >&2
	return 1
}
es_check "wal_status is reported (reserved)" wait_metric 'eventrelay_slot_wal_status{status="reserved"}' 'v == 1'
es_check "the limit is reported (64 MB)" wait_metric eventrelay_slot_wal_keep_bytes 'v == 67108864'

# the emulator stops answering (SIGSTOP): the next event is never acknowledged
kill -STOP "$KPID"
es_on_exit "kill -CONT $KPID"
es_psql -c "SELECT eventstore.append(gen_random_uuid(), 'cart', 0, '[{\"type\":\"Pinned\"}]')" >/dev/null
es_psql -c "CREATE TABLE churn (x int)"
switch() { # switch N: N more WAL segments
	local i
	for ((i = 0; i < $1; i++)); do es_psql -c "INSERT INTO churn VALUES (1); SELECT pg_switch_wal()" >/dev/null; done
}
switch 3
es_check "retained WAL grows past 32 MB" wait_metric eventrelay_slot_retained_wal_bytes 'v > 33554432'
es_check "safe_wal_size shrinks below 32 MB" wait_metric eventrelay_slot_safe_wal_bytes 'v < 33554432'
es_check "a warning names the shrinking safe_wal_size" grep -q 'safe_wal_size of the slot is shrinking' "$TMP/relay.log"
echo "# retained $(metric eventrelay_slot_retained_wal_bytes) bytes, safe_wal_size $(metric eventrelay_slot_safe_wal_bytes) bytes"

switch 3
es_check "past the limit: wal_status unreserved" wait_metric 'eventrelay_slot_wal_status{status="unreserved"}' 'v == 1'
es_check "an error line says WAL may be removed" grep -q 'retains more WAL than max_slot_wal_keep_size' "$TMP/relay.log"

es_done
