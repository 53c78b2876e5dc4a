#!/usr/bin/env bash
#
# t_relay_backfill.sh - --backfill: 20,000 events exist before the slot; the
# relay creates it with an exported snapshot and publishes them in
# (aggregate_id, version) order while it streams, and writers keep
# appending to the same aggregates: live events are acknowledged while the
# backfill is still running.  The relay is killed with SIGKILL several times
# during the backfill and restarted: it resumes after the last acknowledged
# row from the state file.  Read back with the AWS CLI from kinesalite:
# every event arrives, first occurrences in version order per aggregate
# (duplicates allowed and counted).  Then once more with the S3 sink alone
# (moto), a new slot: the archive, read in key order, holds every event, in
# order per aggregate.  BACKFILL_EVENTS (default 20000) sets the size.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need aws jq python3 node moto_server curl
RELAY=$(es_relay_bin)
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
es_relay_prepare
es_kinesalite_start
es_kinesis_create "$ES_KINESALITE_URL" events 2
TMP=$ES_TMP
N=${BACKFILL_EVENTS:-20000}
AGGS=$((N / 10))
MPORT=$(es_free_port)

# --- 20,000 events before the slot: AGGS carts of 10 events ----------------------
# (a plugin slot sees the first of them: the backfill must write the same bytes)
es_psql -c "SELECT pg_create_logical_replication_slot('golden', 'eventstore')" >/dev/null
agg() { echo "('00000000-0000-4000-8000-' || lpad(($1)::text, 12, '0'))::uuid"; }
for part in 0 1 2 3; do
	es_psql -c "SELECT eventstore.append($(agg a), 'cart', NULL,
	  (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('i', g, 'part', $part)))
	     FROM generate_series(1, $((10 / 4 + (part < 10 % 4 ? 1 : 0)))) g))
	  FROM generate_series(1, $AGGS) a" >/dev/null
done
es_psql -c "SELECT data FROM pg_logical_slot_get_changes('golden', NULL, 200)" >"$TMP/golden.ndjson"
es_psql -c "SELECT pg_drop_replication_slot('golden')" >/dev/null
before=$(es_psql -c "SELECT count(*) FROM eventstore.events")
es_eq "$N events exist before the slot" "$N" "$before"

cat >"$TMP/append.sql" <<SQL
\set a random(1, $AGGS)
\set n random(1, 3)
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('live', g)))
          FROM generate_series(1, :n) g));
SQL

RELAY_PID=
es_on_exit 'kill -9 $RELAY_PID'
start_relay() { # start_relay [extra flags]
	"$RELAY" --dbname "$(es_relay_dsn)" --slot backfill --create-slot --backfill \
		--backfill-rate 1500 --state-file "$TMP/state" \
		--stream events --endpoint-url "$ES_KINESALITE_URL" --region us-east-1 \
		--linger-ms 5 --retry-base-ms 10 --retry-max-ms 200 --status-interval 1 \
		--reconnect-max 1 --dead-letter "$TMP/dl.ndjson" "$@" 2>>"$TMP/relay.log" &
	RELAY_PID=$!
}
in_backfill() { grep -q '^task=backfill' "$TMP/state" 2>/dev/null; }

start_relay --metrics-port "$MPORT"
"$PGBIN/pgbench" -n -c 2 -j 2 -T 12 -R 60 -f "$TMP/append.sql" >"$TMP/pgbench.log" 2>&1 &
W=$!
# the metrics show the backfill while it runs
for ((i = 0; i < 50; i++)); do
	curl -fsS "http://127.0.0.1:$MPORT/metrics" >"$TMP/metrics.txt" 2>/dev/null &&
		grep -q '^eventrelay_backfill_events [1-9]' "$TMP/metrics.txt" && break
	sleep 0.1
done
es_check "metrics: backfill running with progress" \
	grep -q '^eventrelay_backfill_running 1' "$TMP/metrics.txt"
es_check "metrics: expected events counted (at least the $N existing)" \
	awk -v n="$N" '$1 == "eventrelay_backfill_expected_events" && $2 >= n {f = 1} END {exit !f}' "$TMP/metrics.txt"

# --- the live stream does not wait for the backfill -----------------------------------
# One event to the aggregate the cursor reaches last, one to a new aggregate: both
# must be acknowledged (the slot confirms past them) while the backfill still runs.
marker='[{"type":"Marker","data":{"live":true}}]'
es_psql -c "SELECT eventstore.append($(agg $AGGS), 'cart', NULL, '$marker')" >/dev/null
es_psql -c "SELECT eventstore.append(gen_random_uuid(), 'cart', NULL, '$marker')" >/dev/null
mark_lsn=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
t0=$(date +%s.%N)
for ((i = 0; i < 200; i++)); do
	[[ $(es_psql -c "SELECT confirmed_flush_lsn >= '$mark_lsn' FROM pg_replication_slots WHERE slot_name = 'backfill'") == t ]] && break
	sleep 0.05
done
live_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}')
curl -fsS "http://127.0.0.1:$MPORT/metrics" >"$TMP/metrics2.txt" 2>/dev/null || true
pct=$(awk '$1 == "eventrelay_backfill_events" {d = $2} $1 == "eventrelay_backfill_expected_events" {e = $2} END {if (e) printf "%.0f", 100 * d / e}' "$TMP/metrics2.txt")
echo "# live events acknowledged ${live_s}s after their commit, with the backfill at ${pct:-?}%"
es_check "live events (the cursor's last aggregate, a new one) acknowledged while the backfill runs" in_backfill
es_check "... within 5 s ($live_s s)" awk -v s="$live_s" 'BEGIN{exit !(s < 5)}'

# --- the backfill's own connection dies: it reopens and resumes, the relay goes on ----
term=$(es_psql -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
  WHERE application_name = 'eventrelay' AND state LIKE 'idle in transaction%' AND backend_xmin IS NOT NULL")
for ((i = 0; i < 50; i++)); do grep -q '"msg":"the backfill lost its connection' "$TMP/relay.log" && break; sleep 0.1; done
es_eq "the backfill's connection terminated during the backfill" 1 "$term"
es_check "... the relay noticed and kept running" bash -c "grep -q '\"msg\":\"the backfill lost its connection' '$TMP/relay.log' && kill -0 $RELAY_PID"

# --- SIGKILL during the backfill ---------------------------------------------------
kills=0
pending=0
while ((kills < 4)) && in_backfill; do
	sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 0.8 + (r % 100) / 100}')"
	in_backfill || break
	kill -9 "$RELAY_PID" 2>/dev/null || true
	wait "$RELAY_PID" 2>/dev/null || true
	kills=$((kills + 1))
	! in_backfill || pending=$((pending + 1))
	start_relay
	# the next kill only once this relay took up the backfill again
	for ((i = 0; i < 50; i++)); do
		(($(grep -c '"msg":"resuming the interrupted task' "$TMP/relay.log" || true) >= pending)) && break
		sleep 0.1
	done
done
es_check "killed with SIGKILL during the backfill at least 3 times ($kills)" test "$kills" -ge 3
resumed=$(grep -c '"msg":"resuming the interrupted task' "$TMP/relay.log" || true)
es_eq "each restart with the backfill unfinished resumed it" "$pending" "$resumed"
wait "$W" || es_die "writers failed: $(tail -n 5 "$TMP/pgbench.log")"
for ((i = 0; i < 300; i++)); do in_backfill || break; sleep 0.2; done
es_check "the backfill finished (no task left in the state file)" bash -c "! grep -q '^task=' '$TMP/state'"
es_check "the relay caught up with the live stream" es_wait_caught_up backfill 90
kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "SIGTERM: clean exit" 0 "$rc"
es_check "progress logged" grep -q '"msg":"backfill progress"' "$TMP/relay.log"
done_line=$(grep '"msg":"backfill done"' "$TMP/relay.log" | tail -n 1)
field() { sed -n "s/.*\"$1\":\"\([0-9]*\)\".*/\1/p" <<<"$done_line"; }
echo "# the stream reached $(field aggregates) aggregates first ($(field in_flight) of them with rows in flight): $(field for_the_stream) rows put ahead of their events (last run)"

es_kinesis_read "$ES_KINESALITE_URL" events >"$TMP/read.ndjson"
result=$(es_check_events "$TMP/read.ndjson") && ok=1 || ok=0
total=$(es_psql -c "SELECT count(*) FROM eventstore.events")
echo "# kinesis: existing=$N live=$((total - N)) kills=$kills $result"
es_eq "nothing lost, first deliveries in version order per aggregate" 1 "$ok"

# the envelope of a backfilled event: the plugin's bytes but for source
python3 - "$TMP/read.ndjson" "$(es_psql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'backfill'")" <<'PY' && ok=1 || ok=0
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["data"].get("part") == 0 and e["version"] == 1:
        assert list(e) == ["aggregate_id", "aggregate_type", "version", "event_id", "type", "data",
                           "metadata", "recorded_at", "source"], list(e)
        assert list(e["source"]) == ["database", "lsn", "xid", "commit_time"], e["source"]
        assert e["source"]["database"] and e["source"]["xid"] > 0
        sys.exit(0)
sys.exit(1)
PY
es_eq "a backfilled envelope has the plugin's fields and source" 1 "$ok"
python3 - "$TMP/read.ndjson" "$TMP/golden.ndjson" <<'PY' && ok=1 || ok=0
import json, re, sys
strip = lambda l: re.sub(r',"source":\{[^{}]*\}\}$', '}', l.strip())
got = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    got.setdefault((e["aggregate_id"], e["version"]), strip(l))
n = 0
for l in open(sys.argv[2]):
    e = json.loads(l)
    if strip(l) != got[(e["aggregate_id"], e["version"])]:
        print("differs:", strip(l), got[(e["aggregate_id"], e["version"])]); sys.exit(1)
    n += 1
print("# %d backfilled envelopes byte-identical to the plugin's (source aside)" % n)
sys.exit(0 if n >= 100 else 1)
PY
es_eq "backfilled envelopes are the plugin's bytes apart from source" 1 "$ok"
es_check "no dead letters" test ! -s "$TMP/dl.ndjson"

# --- Kinesis and S3 together: the archive starts with the whole history ----------------
# (rows the stream needed first go into its Kinesis records; the archive gets every row
# from the backfill's own objects, which sort before the stream's)
PORT=$(es_free_port)
moto_server -H 127.0.0.1 -p "$PORT" >"$TMP/moto.log" 2>&1 &
es_on_exit "kill $!"
es_wait_port "$PORT" 30 || es_die "moto_server did not start"
M=http://127.0.0.1:$PORT
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url "$M" s3api create-bucket --bucket archive >/dev/null
start_s3() {
	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$RELAY" --dbname "$(es_relay_dsn)" \
		--slot backfill_s3 --create-slot --backfill --backfill-rate 8000 --state-file "$TMP/state_s3" \
		--sink kinesis --stream events2 --endpoint-url "$ES_KINESALITE_URL" \
		--sink s3 --s3-bucket archive --s3-endpoint-url "$M" --region us-east-1 \
		--s3-max-object-age 300ms --status-interval 1 --dead-letter "$TMP/dl3.ndjson" \
		2>>"$TMP/relay_s3.log" &
	RELAY_PID=$!
}
es_kinesis_create "$ES_KINESALITE_URL" events2 2
start_s3
"$PGBIN/pgbench" -n -c 2 -j 2 -T 4 -R 60 -f "$TMP/append.sql" >>"$TMP/pgbench.log" 2>&1 &
W=$!
sleep 1.5
s3kills=0
if grep -q '^task=backfill' "$TMP/state_s3" 2>/dev/null; then
	kill -9 "$RELAY_PID"
	wait "$RELAY_PID" 2>/dev/null || true
	s3kills=1
	start_s3
fi
wait "$W" || es_die "writers failed"
es_check "the S3 relay caught up" es_wait_caught_up backfill_s3 90
kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "S3 relay: clean exit" 0 "$rc"
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url "$M" s3 cp --recursive --quiet s3://archive/ "$TMP/arch/"
es_psql -c "SELECT aggregate_id || ' ' || version FROM eventstore.events" >"$TMP/expected.txt"
result=$(python3 - "$TMP/arch" "$TMP/expected.txt" <<'PY'
import gzip, json, os, sys
root, exp = sys.argv[1], sys.argv[2]
expected = {(a, int(v)) for a, v in (l.split() for l in open(exp))}
keys = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
seen, last, dups, order = set(), {}, 0, 0
for k in keys:   # key order = replay order
    for line in gzip.open(os.path.join(root, k)).read().decode().splitlines():
        e = json.loads(line)
        key = (e["aggregate_id"], int(e["version"]))
        if key in seen:
            dups += 1; continue
        seen.add(key)
        if key[1] != last.get(key[0], 0) + 1:
            order += 1
            if order <= 5:
                print("order: %s version %d after %d in %s" % (key[0], key[1], last.get(key[0], 0), k), file=sys.stderr)
        last[key[0]] = key[1]
missing = len(expected - seen)
print("objects=%d events=%d missing=%d dups=%d order_errors=%d" % (len(keys), len(expected), missing, dups, order))
sys.exit(1 if missing or order else 0)
PY
) && ok=1 || ok=0
echo "# s3: kills=$s3kills $result"
es_eq "the archive holds every event, in key order per aggregate" 1 "$ok"
es_kinesis_read "$ES_KINESALITE_URL" events2 >"$TMP/read2.ndjson"
result=$(es_check_events "$TMP/read2.ndjson") && ok=1 || ok=0
echo "# kinesis beside s3: $result"
es_eq "... and Kinesis beside it every event, first deliveries in order" 1 "$ok"

es_done
