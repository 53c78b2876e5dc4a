#!/usr/bin/env bash
#
# kinesis_latency.sh - commit -> stored in Kinesis at a steady RATE events/s
# (one event per transaction) when a PutRecords round trip takes DELAY_MS
# (bench/kinesis_standin.js --commit-latency 1: each record's latency is
# taken when the stand-in stores it, at the request's arrival), today's relay
# (BASE_COMMIT) and this one with their defaults, one after the other in one
# run; p50/p90/p99/max and relay CPU per event.  Where the tail comes from:
# with one request in flight, an event that arrives while a request is out
# waits for its answer plus the next linger; with several in flight it waits
# only for its own batch's linger.
#
#   bench/kinesis_latency.sh     Environment: RATE (1000), SECONDS_EACH (15),
#   DELAY_MS (25), BASE_COMMIT (00a0684)
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/lib_aws.sh"
es_need node python3
es_install_extension
NEW=$(es_relay_bin)
RATE=${RATE:-1000}
SECONDS_EACH=${SECONDS_EACH:-15}
DELAY_MS=${DELAY_MS:-25}
BASE_COMMIT=${BASE_COMMIT:-00a0684}
OUT=$ROOT/bench/results
mkdir -p "$OUT"
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
TMP=$ES_TMP
DSN=$(es_relay_dsn)
export AWS_ACCESS_KEY_ID=standin AWS_SECRET_ACCESS_KEY=standin # not checked by the stand-in
say() { echo "$*" | tee -a "$OUT/kinesis_latency.txt"; }
git -C "$ROOT" archive "$BASE_COMMIT" relay | tar -x -C "$TMP"
make -C "$TMP/relay" -s -j2 eventrelay >/dev/null 2>&1 || make -C "$TMP/relay" eventrelay >&2
BASE=$TMP/relay/eventrelay
say "== kinesis_latency $(date -u +%FT%TZ) $(nproc) cores, $RATE events/s, round trip $DELAY_MS ms, base $(git -C "$ROOT" rev-parse --short "$BASE_COMMIT"), new $(git -C "$ROOT" rev-parse --short HEAD)"
cat >"$TMP/one.sql" <<'SQL'
SELECT eventstore.append(gen_random_uuid(), 'cart', 0, '[{"type":"ItemAdded","data":{"sku":"A-1","qty":2}}]');
SQL

measure() { # measure NAME BIN
	local name=$1 bin=$2 sp rp ticks n
	rm -f "$TMP/$name.ready"
	node "$ROOT/bench/kinesis_standin.js" --port 0 --shards 1 --delay-ms "$DELAY_MS" \
		--commit-latency 1 --log "$TMP/$name.log" --ready "$TMP/$name.ready" &
	sp=$!
	es_on_exit "kill $sp"
	for ((i = 0; i < 100; i++)); do [[ -s $TMP/$name.ready ]] && break; sleep 0.05; done
	"$bin" --dbname "$DSN" --slot "$name" --create-slot --sink kinesis --stream lat \
		--endpoint-url "http://127.0.0.1:$(cat "$TMP/$name.ready")" --region us-east-1 \
		--log-level warn --dead-letter "$TMP/dl.ndjson" 2>"$TMP/$name-relay.log" &
	rp=$!
	es_on_exit "kill $rp"
	for ((i = 0; i < 100; i++)); do
		[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$name'") == 1 ]] && break
		sleep 0.1
	done
	"$PGBIN/pgbench" -n -c 4 -j 2 -R "$RATE" -T "$SECONDS_EACH" -f "$TMP/one.sql" >"$TMP/$name-pgbench.log" 2>&1
	sleep 1
	ticks=$(awk '{print $14 + $15}' "/proc/$rp/stat")
	kill "$rp"
	wait "$rp" || true
	kill "$sp"
	wait "$sp" || true
	n=$(wc -l <"$TMP/$name.log")
	python3 - "$TMP/$name.log" "$ticks" "$(getconf CLK_TCK)" "$n" "$name" <<'PY'
import sys
log, ticks, hz, n, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
lat = sorted(float(l.split()[6]) for l in open(log) if len(l.split()) > 6 and l.split()[6] != "nan")
lat = lat[len(lat) // 10:]  # the first tenth is warm-up
q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
print("%s: n=%d p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms; relay CPU %.1f us/event"
      % (name, len(lat), q(0.5), q(0.9), q(0.99), lat[-1], ticks / hz * 1e6 / n))
PY
}
say "  $(measure base "$BASE")"
say "  $(measure new "$NEW")"
say "  command: pgbench -R $RATE -T $SECONDS_EACH (eventstore.append of 1 event) | eventrelay --sink kinesis (defaults) | bench/kinesis_standin.js --delay-ms $DELAY_MS --commit-latency 1"
