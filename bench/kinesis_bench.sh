#!/usr/bin/env bash
#
# kinesis_bench.sh - the Kinesis sink at real-AWS round trips: eventrelay ->
# bench/kinesis_standin.js (PutRecords answered after DELAY_MS, default 25),
# today's relay (BASE_COMMIT, built from git into a scratch directory) and
# this tree's side by side, in one run, over the same WAL:
#
#   many   200,000 events over 10,000 aggregates (transactions of 10)
#   one    5,000 events of one aggregate (transactions of 10)
#   each again with 5% of the records failing at random
#          (ProvisionedThroughputExceededException per record)
#
# Events are appended with eventstore.append (bench/append_eventstore.pgbench)
# after the slots were created; each relay run streams its own slot to
# --end-lsn (a catch-up).  Reported: events/s (wall time of the relay run),
# relay CPU per event, requests, and bench/kinesis_check.py's verdict on what
# the stand-in stored (complete, in order by the documented consumer rule;
# "strict" = first deliveries in version order).  The stand-in's own capacity
# is measured first (bench/kinesis_standin_load.js).
#
#   bench/kinesis_bench.sh          Environment: DELAY_MS (25), MANY (200000),
#   NAGGS (10000), ONE (5000), FAIL_PCT (5), BASE_COMMIT (00a0684),
#   NEW_FLAGS (--max-records-per-key 500)
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/lib_aws.sh"
es_need node python3
es_install_extension
NEW=$(es_relay_bin)
DELAY_MS=${DELAY_MS:-25}
MANY=${MANY:-200000}
NAGGS=${NAGGS:-10000}
ONE=${ONE:-5000}
FAIL_PCT=${FAIL_PCT:-5}
BASE_COMMIT=${BASE_COMMIT:-00a0684}
read -r -a NEW_FLAGS <<<"${NEW_FLAGS:---max-records-per-key 500}"
OUT=$ROOT/bench/results
mkdir -p "$OUT"

es_cluster_start "max_wal_size = 4GB" "wal_sender_timeout = 0"
es_psql -c 'CREATE EXTENSION eventstore'
TMP=$ES_TMP
export AWS_ACCESS_KEY_ID=standin AWS_SECRET_ACCESS_KEY=standin # not checked by the stand-in
DSN=$(es_relay_dsn)
say() { echo "$*" | tee -a "$OUT/kinesis_bench.txt"; }

# today's relay, from git
git -C "$ROOT" archive "$BASE_COMMIT" relay | tar -x -C "$TMP"
make -C "$TMP/relay" -s -j2 eventrelay >/dev/null 2>&1 || make -C "$TMP/relay" eventrelay >&2
BASE=$TMP/relay/eventrelay
say "== kinesis_bench $(date -u +%FT%TZ) $(nproc) cores, delay ${DELAY_MS} ms, base $(git -C "$ROOT" rev-parse --short "$BASE_COMMIT"), new $(git -C "$ROOT" rev-parse --short HEAD)"

SP=
standin_start() { # standin_start LOG [FAIL_PCT]: starts the stand-in, sets SPORT
	rm -f "$TMP/standin.ready"
	node "$ROOT/bench/kinesis_standin.js" --port 0 --shards 4 --delay-ms "$DELAY_MS" \
		--fail-pct "${2:-0}" --seed "$RANDOM" --log "$1" --ready "$TMP/standin.ready" &
	SP=$!
	es_on_exit "kill $SP"
	for ((i = 0; i < 100; i++)); do [[ -s $TMP/standin.ready ]] && break; sleep 0.05; done
	SPORT=$(cat "$TMP/standin.ready")
}
standin_stop() { kill "$SP"; wait "$SP" || true; }

# the stand-in alone: records/s it stores (the load generator shares the cores)
standin_start "$TMP/load.log"
read -r lrec lreq < <(node "$ROOT/bench/kinesis_standin_load.js" "$SPORT" 64 4)
standin_stop
say "stand-in capacity (delay ${DELAY_MS} ms, 64 connections, 500 records of ~800 bytes per request, logging each): $lrec records/s, $lreq requests/s"

load() { # load EVENTS TXN_SIZE NAGGS CLIENTS
	local txns=$(($1 / $2 / $4))
	"$PGBIN/pgbench" -n -c "$4" -j "$4" -t "$txns" -D k="$2" -D naggs="$3" \
		-f "$ROOT/bench/append_eventstore.pgbench" >"$TMP/pgbench.log" 2>&1 ||
		{
			tail "$TMP/pgbench.log"
			es_die "pgbench failed"
		}
}

RUNS=(base newd new base_f new_f)
slots() { for r in "${RUNS[@]}"; do es_psql -c "SELECT pg_create_logical_replication_slot('$1_$r', 'eventstore')" >/dev/null; done; }

# run SCENARIO RUN BIN FAIL END EXPECTED [FLAGS...]: one relay run; prints the table cells
run() {
	local sc=$1 r=$2 bin=$3 fail=$4 end=$5 exp=$6 strict=
	shift 6
	standin_start "$TMP/$sc-$r.log" "$fail"
	/usr/bin/time -f '%e %U %S' -o "$TMP/time.txt" "$bin" --dbname "$DSN" --slot "${sc}_$r" \
		--sink kinesis --stream bench --endpoint-url "http://127.0.0.1:$SPORT" --region us-east-1 \
		--end-lsn "$end" --log-level warn --dead-letter "$TMP/dl-$sc-$r.ndjson" "$@" \
		>/dev/null 2>"$TMP/relay-$sc-$r.log" || {
		tail -n 5 "$TMP/relay-$sc-$r.log" >&2
		es_die "relay run $sc $r failed"
	}
	standin_stop
	read -r w u s <"$TMP/time.txt"
	[[ " $* " == *" --max-records-per-key "* ]] || strict=--strict
	verdict=$(python3 "$ROOT/bench/kinesis_check.py" "$TMP/$sc-$r.log" "$exp" $strict) && ok=ok || ok=FAIL
	reqs=$(python3 -c "import json; print(json.load(open('$TMP/$sc-$r.log.stats'))['requests'])")
	n=$(wc -l <"$exp")
	awk -v n="$n" -v w="$w" -v c="$(echo "$u + $s" | bc)" -v q="$reqs" -v ok="$ok" -v st="${strict:+strict}" 'BEGIN {
		printf "%.0f ev/s, %.1f us/ev, %d req, %s%s", n / w, c * 1e6 / n, q, ok, st ? " (strict)" : "" }'
	echo " [$verdict]" >>"$OUT/kinesis_bench.txt"
}

scenario() { # scenario NAME EVENTS NAGGS CLIENTS
	local sc=$1 end
	slots "$sc"
	load "$2" 10 "$3" "$4"
	end=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
	es_psql -c "SELECT aggregate_id || ' ' || version FROM eventstore.events
	             WHERE aggregate_id IN (SELECT md5('agg-' || a)::uuid FROM generate_series(1, $3) a)
	               AND xmin::text::bigint > $XMIN0" >"$TMP/$sc.expected"
	say "$sc: $(wc -l <"$TMP/$sc.expected") events over $3 aggregates, WAL up to $end"
	say "  base (defaults):             $(run "$sc" base "$BASE" 0 "$end" "$TMP/$sc.expected")"
	# the new defaults (several in flight, one record per aggregate per request);
	# for one aggregate that is the old rate by design
	[[ $sc == one ]] ||
		say "  new (defaults):              $(run "$sc" newd "$NEW" 0 "$end" "$TMP/$sc.expected")"
	say "  new (${NEW_FLAGS[*]}): $(run "$sc" new "$NEW" 0 "$end" "$TMP/$sc.expected" "${NEW_FLAGS[@]}")"
	say "  base, ${FAIL_PCT}% failing:           $(run "$sc" base_f "$BASE" "$FAIL_PCT" "$end" "$TMP/$sc.expected")"
	say "  new, ${FAIL_PCT}% failing:            $(run "$sc" new_f "$NEW" "$FAIL_PCT" "$end" "$TMP/$sc.expected" "${NEW_FLAGS[@]}")"
}

XMIN0=$(es_psql -c "SELECT txid_current()")
scenario many "$MANY" "$NAGGS" 4
XMIN0=$(es_psql -c "SELECT txid_current()")
scenario one "$ONE" 1 1
say "  command: eventrelay --sink kinesis --stream bench --endpoint-url STANDIN --end-lsn LSN [flags]; bench/kinesis_check.py STANDIN_LOG EXPECTED"
