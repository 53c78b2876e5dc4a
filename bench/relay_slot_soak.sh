#!/usr/bin/env bash
#
# relay_slot_soak.sh - the relay's slot while only other tables are written, for
# minutes: a relay (stdout sink to /dev/null) runs while a writer churns an
# unrelated table; every 10 s the WAL the slot pins (current - restart_lsn) and
# the confirmation gap (current - confirmed_flush_lsn) are sampled.  A few events
# are appended at the start so the slot has real work before the churn.
#
#   bench/relay_slot_soak.sh [MINUTES]     (default 3)
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/lib_aws.sh"
MINUTES=${1:-3}
RELAY=$(es_relay_bin)
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
"$RELAY" --dbname "$(es_relay_dsn)" --slot soak --create-slot --sink stdout --status-interval 10 \
	>/dev/null 2>"$ES_TMP/relay.log" &
rp=$!
es_on_exit "kill $rp"
sleep 1
es_psql -c "SELECT eventstore.append(gen_random_uuid(), 'cart', 0, '[{\"type\":\"X\"}]') FROM generate_series(1, 100)" >/dev/null
es_psql -c "CREATE TABLE churn (id bigserial, pad text)"
start=$(es_psql -c "SELECT pg_current_wal_lsn()")
end=$((SECONDS + MINUTES * 60))
next=$((SECONDS + 10))
max_pin=0
max_gap=0
n=0
while ((SECONDS < end)); do
	es_psql -c "INSERT INTO churn (pad) SELECT repeat('x', 500) FROM generate_series(1, 2000)" >/dev/null
	if ((SECONDS >= next)); then
		read -r pin gap < <(es_psql -F ' ' -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint,
			pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = 'soak'")
		((pin > max_pin)) && max_pin=$pin
		((gap > max_gap)) && max_gap=$gap
		n=$((n + 1))
		next=$((SECONDS + 10))
	fi
done
written=$(es_psql -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$start')::bigint")
printf 'slot soak: %d min of other-table writes, %d MB of WAL; %d samples: WAL pinned by the slot at most %.1f MB, confirmation at most %.1f MB behind\n' \
	"$MINUTES" $((written / 1048576)) "$n" "$(echo "$max_pin / 1048576" | bc -l)" "$(echo "$max_gap / 1048576" | bc -l)" |
	tee -a "$ROOT/bench/results/relay_bench.txt"
