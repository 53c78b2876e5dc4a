#!/usr/bin/env bash
#
# t_s3_kill.sh - the archive under SIGKILL: eventrelay --sink kinesis --sink s3
# is killed with SIGKILL every 1.5-3 s and restarted while writers append
# events.  Kinesis (moto) sits behind the fault-injecting proxy, which fails
# and throttles part of the PutRecords, so the Kinesis sink often lags the
# S3 sink and the slot gets confirmed in the middle of stored objects.
# Afterwards the archive must hold every event exactly once: no object may
# overlap another (each restart re-cuts at the earlier run's boundaries or
# acknowledges what is already stored), events in version order per
# aggregate.  S3_KILL_SECONDS (default 12) sets the length of the kill phase.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need moto_server aws jq python3
RELAY=$(es_relay_bin)
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
TMP=$ES_TMP
PHASE=${S3_KILL_SECONDS:-12}

# moto without signature checks: the recovery listing needs prefix=a%2Fb,
# which moto's S3 signature check wrongly rejects
PORT=$(es_free_port)
moto_server -H 127.0.0.1 -p "$PORT" >"$TMP/moto.log" 2>&1 &
es_on_exit "kill $!"
es_wait_port "$PORT" 30 || es_die "moto_server did not start"
M=http://127.0.0.1:$PORT
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
aws --endpoint-url "$M" s3api create-bucket --bucket archive >/dev/null
es_kinesis_create "$M" events 2
es_fault_proxy_start "$M" --fail-pct 15 --throttle-pct 5

RELAY_PID=
es_on_exit 'kill -9 $RELAY_PID'
start_relay() {
	"$RELAY" --dbname "$(es_relay_dsn)" --slot s3_kill --create-slot --sink kinesis --sink s3 \
		--stream events --endpoint-url "$ES_PROXY_URL" --region us-east-1 \
		--linger-ms 5 --retry-base-ms 10 --retry-max-ms 300 --status-interval 1 \
		--s3-bucket archive --s3-endpoint-url "$M" --s3-max-object-age 300ms \
		--dead-letter "$TMP/dl.ndjson" 2>>"$TMP/relay.log" &
	RELAY_PID=$!
}

cat >"$TMP/append.sql" <<'SQL'
\set a random(1, 30)
\set n random(1, 3)
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('i', g)))
          FROM generate_series(1, :n) g));
SQL

start_relay
sleep 1
"$PGBIN/pgbench" -n -c 2 -j 2 -T "$PHASE" -R 80 -f "$TMP/append.sql" >"$TMP/pgbench.log" 2>&1 &
W=$!
kills=0
end=$((SECONDS + PHASE))
while ((SECONDS < end)); do
	sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 1.5 + (r % 150) / 100}')"
	kill -9 "$RELAY_PID" 2>/dev/null || true
	wait "$RELAY_PID" 2>/dev/null || true
	kills=$((kills + 1))
	start_relay
done
wait "$W" || es_die "writers failed: $(tail -n 5 "$TMP/pgbench.log")"
es_ok "relay killed with SIGKILL $kills times while writing"
es_check "the last relay catches up" es_wait_caught_up s3_kill 120
kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "SIGTERM: clean exit" 0 "$rc"

found=$(grep -c '"msg":"archive object of an earlier run found' "$TMP/relay.log" || true)
skipped=$(grep -c '"msg":"positions already archived by an earlier run' "$TMP/relay.log" || true)
same=$(grep -c '"msg":"S3 object already present with the same content"' "$TMP/relay.log" || true)
echo "# restarts that re-cut at an earlier run's boundary: $found; that skipped archived positions: $skipped; 412s with equal content: $same"
es_check "no upload met different content under its key" \
	bash -c "! grep -q 'already exists with different content' '$TMP/relay.log'"

aws --endpoint-url "$M" s3 cp --recursive --quiet s3://archive/events/ "$TMP/arch/"
es_psql -c "SELECT aggregate_id || ' ' || version FROM eventstore.events" >"$TMP/expected.txt"
result=$(python3 - "$TMP/arch" "$TMP/expected.txt" <<'PY'
import gzip, json, os, re, sys
root, exp = sys.argv[1], sys.argv[2]
expected = {(a, int(v)) for a, v in (l.split() for l in open(exp))}
keys = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
pat = re.compile(r"(\d{4}/\d\d/\d\d/\d\d)/([0-9A-F]{16})_([0-9A-F]{16})\.ndjson\.gz$")
seen, last, overlaps, dups, order, prev = set(), {}, 0, 0, 0, -1
for k in keys:
    m = pat.search(k)
    a, b = int(m.group(2), 16), int(m.group(3), 16)
    if a <= prev:
        overlaps += 1
    prev = max(prev, b)
    for line in gzip.open(os.path.join(root, k)).read().decode().splitlines():
        e = json.loads(line)
        key = (e["aggregate_id"], int(e["version"]))
        if key in seen:
            dups += 1; continue
        seen.add(key)
        if key[1] != last.get(key[0], 0) + 1:
            order += 1
        last[key[0]] = key[1]
missing = len(expected - seen)
print("objects=%d events=%d missing=%d dups=%d overlaps=%d order_errors=%d"
      % (len(keys), len(expected), missing, dups, overlaps, order))
sys.exit(1 if missing or dups or overlaps or order else 0)
PY
) && ok=1 || ok=0
echo "# $result"
es_eq "every event archived exactly once, no overlapping objects, in order per aggregate" 1 "$ok"

es_done
