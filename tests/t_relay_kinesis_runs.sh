#!/usr/bin/env bash
#
# t_relay_kinesis_runs.sh - several PutRecords in flight and runs of one
# aggregate per request, under injected partial failures and throttling.
# PostgreSQL + extension + two relays, each into its own
# bench/kinesis_standin.js (20% of the records fail with
# ProvisionedThroughputExceededException, 5% of the requests are throttled,
# answers after 5 ms), while writers append to 3 busy and 200 quiet
# aggregates:
#   - the default relay (--max-records-per-key 1, 4 in flight): nothing
#     missing, first deliveries in version order;
#   - --max-records-per-key 100: nothing missing by the consumer rule of
#     relay/README.md ("Ordering in Kinesis"), runs and re-sends seen.
# bench/kinesis_check.py reads what the stand-ins stored.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need node python3
RELAY=$(es_relay_bin)
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
TMP=$ES_TMP
export AWS_ACCESS_KEY_ID=standin AWS_SECRET_ACCESS_KEY=standin

standin() { # standin NAME: starts a stand-in, prints its port
	node "$ES_ROOT/bench/kinesis_standin.js" --port 0 --shards 2 --delay-ms 5 --fail-pct 20 \
		--throttle-pct 5 --seed "$RANDOM" --log "$TMP/$1.log" --ready "$TMP/$1.ready" \
		>"$TMP/$1.out" 2>&1 &
	echo $! >"$TMP/$1.pid"
	es_on_exit "kill $!"
}
standin strict
standin runs
for ((i = 0; i < 100; i++)); do [[ -s $TMP/strict.ready && -s $TMP/runs.ready ]] && break; sleep 0.05; done

PIDS=()
start_relay() { # start_relay NAME FLAGS...
	local name=$1
	shift
	"$RELAY" --dbname "$(es_relay_dsn)" --slot "$name" --create-slot --stream events \
		--endpoint-url "http://127.0.0.1:$(cat "$TMP/$name.ready")" --region us-east-1 \
		--linger-ms 5 --retry-base-ms 5 --retry-max-ms 50 --status-interval 1 \
		--dead-letter "$TMP/dl-$name.ndjson" "$@" 2>>"$TMP/relay-$name.log" &
	PIDS+=($!)
	es_on_exit "kill -9 $!"
}
start_relay strict
start_relay runs --max-records-per-key 100 --max-in-flight 4
for ((i = 0; i < 100; i++)); do
	[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ('strict','runs')") == 2 ]] && break
	sleep 0.1
done

cat >"$TMP/busy.sql" <<'SQL'
\set a random(1, 3)
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('i', g)))
          FROM generate_series(1, 20) g));
SQL
cat >"$TMP/quiet.sql" <<'SQL'
\set a random(100, 299)
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       '[{"type":"ItemAdded","data":{}}]');
SQL
"$PGBIN/pgbench" -n -c 1 -T 4 -R 20 -f "$TMP/busy.sql" >"$TMP/pgbench-busy.log" 2>&1 &
W1=$!
"$PGBIN/pgbench" -n -c 2 -T 4 -R 300 -f "$TMP/quiet.sql" >"$TMP/pgbench-quiet.log" 2>&1 ||
	es_die "writers failed: $(tail -n 3 "$TMP/pgbench-quiet.log")"
wait "$W1" || es_die "writers failed: $(tail -n 3 "$TMP/pgbench-busy.log")"

es_check "the default relay caught up" es_wait_caught_up strict 60
es_check "the relay with runs caught up" es_wait_caught_up runs 60
for p in "${PIDS[@]}"; do kill -TERM "$p"; done
rc=0
for p in "${PIDS[@]}"; do wait "$p" || rc=$?; done
es_eq "both relays stopped cleanly" 0 "$rc"
for n in strict runs; do kill "$(cat "$TMP/$n.pid")"; done
for ((i = 0; i < 50; i++)); do [[ -s $TMP/strict.log.stats && -s $TMP/runs.log.stats ]] && break; sleep 0.1; done

es_psql -c "SELECT aggregate_id || ' ' || version FROM eventstore.events" >"$TMP/expected"
echo "# $(wc -l <"$TMP/expected") events; stand-ins: strict $(cat "$TMP/strict.log.stats"), runs $(cat "$TMP/runs.log.stats")"
r=$(python3 "$ES_ROOT/bench/kinesis_check.py" "$TMP/strict.log" "$TMP/expected" --strict) && ok=1 || ok=0
echo "# default: $r"
es_eq "default: nothing missing, first deliveries in version order" 1 "$ok"
r=$(python3 "$ES_ROOT/bench/kinesis_check.py" "$TMP/runs.log" "$TMP/expected") && ok=1 || ok=0
echo "# runs: $r"
es_eq "runs: nothing missing, in order by the consumer rule" 1 "$ok"
es_check "runs: partial failures stored events ahead (the rule was exercised)" \
	test "$(echo "$r" | sed -n 's/.*ahead=\([0-9]*\).*/\1/p')" -gt 0
most=$(awk '{ n[$1 " " $6]++ } END { m = 0; for (k in n) if (n[k] > m) m = n[k]; print m }' "$TMP/runs.log")
strict_most=$(awk '{ n[$1 " " $6]++ } END { m = 0; for (k in n) if (n[k] > m) m = n[k]; print m }' "$TMP/strict.log")
echo "# most events of one aggregate stored by one request: default $strict_most, runs $most"
es_eq "default: one event per aggregate per request" 1 "$strict_most"
es_check "runs: a request carried many events of one aggregate" test "$most" -ge 10
es_check "no dead letters" test ! -s "$TMP/dl-strict.ndjson" -a ! -s "$TMP/dl-runs.ndjson"
es_done
