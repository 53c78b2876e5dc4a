#!/usr/bin/env bash
#
# backfill_live.sh - the live stream's commit -> stored latency while a
# --backfill runs (docs/backfill.md, "The stream does not wait").  EXISTING
# events (10 per aggregate) exist before the slot; a live writer (pgbench,
# one event per transaction, RATE events/s, half to random existing
# aggregates, which the backfill's cursor has not passed yet, half to new
# ones) starts once the relay streams; the relay sends into
# bench/kinesis_standin.js (DELAY_MS round trips, --commit-latency 1).  Three
# runs, each in a fresh copy of the same database (CREATE DATABASE ...
# TEMPLATE) with its own slot and stand-in:
#   baseline   this relay without --backfill: the live latency alone;
#   new        this relay with --backfill (unthrottled);
#   base       BASE_COMMIT's relay with --backfill (the stream waited for it).
# Latency is taken of the live events only (data {"live":1}), of their first
# delivery, for those committed before the relay logged "backfill done"
# (baseline: all but the first 1.5 s); the backfill's duration is from the
# relay's start to that line.  Every run is checked complete by
# bench/kinesis_check.py.
#
#   bench/backfill_live.sh     Environment: EXISTING (200000), RATE (500),
#   DELAY_MS (25), SECONDS_BASELINE (15), BASE_COMMIT (39e108e)
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/lib_aws.sh"
es_need node python3
es_install_extension
NEW=$(es_relay_bin)
EXISTING=${EXISTING:-200000}
RATE=${RATE:-500}
DELAY_MS=${DELAY_MS:-25}
SECONDS_BASELINE=${SECONDS_BASELINE:-15}
BASE_COMMIT=${BASE_COMMIT:-39e108e}
AGGS=$((EXISTING / 10))
OUT=$ROOT/bench/results
mkdir -p "$OUT"
es_cluster_start
TMP=$ES_TMP
export AWS_ACCESS_KEY_ID=standin AWS_SECRET_ACCESS_KEY=standin # not checked by the stand-in
say() { echo "$*" | tee -a "$OUT/backfill_live.txt"; }
git -C "$ROOT" archive "$BASE_COMMIT" relay | tar -x -C "$TMP"
make -C "$TMP/relay" -s -j2 eventrelay >/dev/null 2>&1 || make -C "$TMP/relay" eventrelay >&2
BASE=$TMP/relay/eventrelay
say "== backfill_live $(date -u +%FT%TZ) $(nproc) cores, $EXISTING existing events over $AGGS aggregates, live $RATE events/s, round trip $DELAY_MS ms, base $(git -C "$ROOT" rev-parse --short "$BASE_COMMIT"), new $(git -C "$ROOT" rev-parse --short HEAD)"

# --- the existing events, once, in a template database ------------------------------
es_psql -c 'CREATE DATABASE seed'
es_psql -d seed -c 'CREATE EXTENSION eventstore'
t0=$(date +%s.%N)
for part in 0 1; do
	es_psql -d seed -c "SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(a::text, 12, '0'))::uuid, 'cart', NULL,
	  (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('sku', 'A-' || g, 'qty', 2, 'part', $part)))
	     FROM generate_series(1, 5) g))
	  FROM generate_series(1, $AGGS) a" >/dev/null
done
es_log "$(es_psql -d seed -c 'SELECT count(*) FROM eventstore.events') events in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') s"
es_psql -d seed -c 'VACUUM ANALYZE'
copy=""
(($(es_psql -c 'SHOW server_version_num') >= 150000)) && copy="STRATEGY = FILE_COPY" # not the whole copy through the WAL
cat >"$TMP/live.sql" <<SQL
\set r random(1, $((2 * AGGS)))
SELECT eventstore.append(CASE WHEN :r <= $AGGS THEN ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid
                              ELSE gen_random_uuid() END, 'cart', NULL, '[{"type":"ItemAdded","data":{"live":1}}]');
SQL

ms() { date -u -d "$1" +%s%3N; } # ms ISO-TIME: epoch milliseconds
measure() { # measure NAME BIN [--backfill]
	local name=$1 bin=$2 backfill=${3-} sp rp wp t_relay t_live done_line="" done_ms="" after before i
	local secs=$SECONDS_BASELINE only_live="WHERE data ? 'live'"
	[[ -z $backfill ]] || secs=600 only_live="" # the writer runs until the backfill is done
	es_psql -c "CREATE DATABASE $name TEMPLATE seed $copy"
	rm -f "$TMP/$name.ready"
	node "$ROOT/bench/kinesis_standin.js" --port 0 --shards 4 --delay-ms "$DELAY_MS" \
		--commit-latency 1 --log "$TMP/$name.log" --ready "$TMP/$name.ready" &
	sp=$!
	es_on_exit "kill $sp"
	for ((i = 0; i < 100; i++)); do [[ -s $TMP/$name.ready ]] && break; sleep 0.05; done
	t_relay=$(date +%s%3N)
	"$bin" --dbname "$(PGDATABASE=$name es_relay_dsn)" --slot "$name" --create-slot \
		${backfill:+--backfill --state-file "$TMP/$name.state"} --sink kinesis --stream live \
		--endpoint-url "http://127.0.0.1:$(cat "$TMP/$name.ready")" --region us-east-1 \
		--log-level info --dead-letter "$TMP/$name-dl.ndjson" 2>"$TMP/$name-relay.log" &
	rp=$!
	es_on_exit "kill $rp"
	for ((i = 0; i < 300; i++)); do # the slot is made (BASE_COMMIT logs "streaming" after the backfill)
		[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$name' AND confirmed_flush_lsn IS NOT NULL") == 1 ]] && break
		sleep 0.1
	done
	t_live=$(date +%s%3N)
	"$PGBIN/pgbench" -n -c 4 -j 2 -R "$RATE" -T "$secs" \
		-f "$TMP/live.sql" "$name" >"$TMP/$name-pgbench.log" 2>&1 &
	wp=$!
	if [[ -n $backfill ]]; then
		for ((i = 0; i < 1800; i++)); do grep -q '"msg":"backfill done' "$TMP/$name-relay.log" && break; sleep 0.1; done
		sleep 2 # live events after the backfill too
		kill "$wp" # (SIGINT is ignored by a background job)
	fi
	wait "$wp" || [[ -n $backfill ]] || es_die "$name: pgbench failed: $(tail -n 3 "$TMP/$name-pgbench.log")"
	es_wait_caught_up "$name" 120 || es_die "$name: the relay did not catch up"
	kill "$rp"
	wait "$rp" || true
	kill "$sp"
	wait "$sp" || true
	es_psql -c "SELECT pg_drop_replication_slot('$name')" >/dev/null
	es_psql -d "$name" -c "SELECT aggregate_id || ' ' || version FROM eventstore.events WHERE data ? 'live'" >"$TMP/$name.live"
	es_psql -d "$name" -c "SELECT aggregate_id || ' ' || version FROM eventstore.events $only_live" >"$TMP/$name.all"
	if [[ -n $backfill ]]; then
		done_line=$(grep '"msg":"backfill done' "$TMP/$name-relay.log" | tail -n 1)
		[[ -n $done_line ]] || es_die "$name: no \"backfill done\" in the relay's log"
		done_ms=$(ms "$(sed -n 's/.*"ts":"\([^"]*\)".*/\1/p' <<<"$done_line")")
		after=$t_live before=$done_ms
	else
		after=$((t_live + 1500)) before=inf
	fi
	python3 "$ROOT/bench/kinesis_check.py" "$TMP/$name.log" "$TMP/$name.all" \
		--latency-of "$TMP/$name.live" --committed-after "$after" --committed-before "$before" >"$TMP/$name.check" ||
		es_die "$name: incomplete: $(head -n 1 "$TMP/$name.check")"
	if [[ -n $backfill ]]; then # the two halves: existing aggregates (version > 10), new ones (version 1)
		grep -v ' 1$' "$TMP/$name.live" >"$TMP/$name.live-old" || true
		grep ' 1$' "$TMP/$name.live" >"$TMP/$name.live-new" || true
		for half in old new; do
			python3 "$ROOT/bench/kinesis_check.py" "$TMP/$name.log" "$TMP/$name.all" --latency-of "$TMP/$name.live-$half" \
				--committed-after "$after" --committed-before "$before" | tail -n 1 >>"$TMP/$name.check"
		done
	fi
	python3 - "$name" "$TMP/$name.check" "$t_relay" "$done_ms" "$done_line" "$(wc -l <"$TMP/$name.live")" "$EXISTING" <<'PY'
import json, sys
name, check, t_relay, done_ms, done_line, n_live, existing = sys.argv[1:8]
lines = open(check).read().split("\n")
def lat(line, label):
    l = dict(kv.split("=") for kv in line.split()[1:])
    return "%sn=%s p50 %s ms, p90 %s ms, p99 %s ms, max %s ms" % (label, l["n"], l["p50"], l["p90"], l["p99"], l["max"])
out = "%s: %s (of %s live events)" % (name, lat(lines[1], "live "), n_live)
if done_ms:
    d = json.loads(done_line)
    s = (int(done_ms) - int(t_relay)) / 1000
    out += " [existing aggregates %s; new aggregates %s]" % (lat(lines[2], ""), lat(lines[3], ""))
    # the log's events count the rows sent twice (in flight and put ahead of the stream) twice
    out += "; backfill %s existing events in %.1f s = %.0f events/s (logged events %s)" % (
        existing, s, int(existing) / s, d["events"])
    if "for_the_stream" in d:
        out += " (for_the_stream %s, aggregates %s, in_flight %s)" % (
            d["for_the_stream"], d["aggregates"], d["in_flight"])
print(out + "; " + lines[0].split(" records=")[0])
PY
}
say "  $(measure baseline "$NEW")"
say "  $(measure new "$NEW" --backfill)"
say "  $(measure base "$BASE" --backfill)"
say "  command: eventrelay --create-slot [--backfill --state-file F] --sink kinesis | bench/kinesis_standin.js --shards 4 --delay-ms $DELAY_MS --commit-latency 1, pgbench -c 4 -R $RATE (eventstore.append of 1 event, half to existing aggregates)"
