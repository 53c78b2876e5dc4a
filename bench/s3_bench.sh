#!/usr/bin/env bash
#
# s3_bench.sh - how fast `eventrelay replay` reads an S3 archive.
#
#   bench/s3_bench.sh [EVENTS]        (default 200000 envelopes of ~450 bytes)
#
# Builds an archive the way the s3 sink lays it out (5 MiB uncompressed
# objects of gzip NDJSON under events/YYYY/MM/DD/HH/<first>_<last>.ndjson.gz)
# in moto_server on loopback (no signature check), then, best of 3:
#   1. eventrelay replay --to stdout > /dev/null            (the relay)
#   2. aws s3 cp --recursive + gunzip -c > /dev/null         (baseline: the AWS
#      CLI doing the same download and decompression, without ordering)
#   3. eventrelay replay --to kinesis into kinesalite (if installed): events/s
#      into a stream, PutRecords batching included
# and prints events/s and the ratio replay / baseline.  Raw output in
# bench/results/s3-*.txt; the printed table replaces the S3 table of
# bench/RESULTS.md.
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-200000}
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/lib_aws.sh"
es_need moto_server aws python3
RELAY=$(es_relay_bin)
TMP=$(es_tmpdir)
mkdir -p "$ROOT/bench/results"
OUT=$ROOT/bench/results/s3-$(date -u +%Y%m%dT%H%M%SZ).txt

PORT=$(es_free_port)
moto_server -H 127.0.0.1 -p "$PORT" >"$TMP/moto.log" 2>&1 &
es_on_exit "kill $!"
es_wait_port "$PORT" 30 || es_die "moto_server did not start"
M=http://127.0.0.1:$PORT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
aws --endpoint-url "$M" s3api create-bucket --bucket bench >/dev/null

# the archive, built locally then uploaded with one CLI call
python3 - "$N" "$TMP/arch" <<'PY'
import gzip, json, os, random, sys
n, root = int(sys.argv[1]), sys.argv[2]
random.seed(5)
lines, size, first, pos, made = [], 0, None, 0x16B3748, 0
def flush(last):
    global lines, size, first, made
    d = os.path.join(root, "events/2026/11/23/09")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "%016X_%016X.ndjson.gz" % (first, last)), "wb") as f:
        f.write(gzip.compress("".join(lines).encode(), 6, mtime=0))
    lines, size, first, made = [], 0, None, made + 1
for i in range(n):
    if i % 3 == 0:
        pos += 0x400
    if first is None:
        first = pos
    a = random.randint(1, 5000)
    e = {"aggregate_id": "00000000-0000-4000-8000-%012d" % a, "aggregate_type": "cart",
         "version": i + 1, "event_id": "%032x" % random.getrandbits(128), "type": "ItemAdded",
         "data": {"sku": "SKU-%05d" % random.randint(1, 99999), "qty": random.randint(1, 9)},
         "metadata": {"correlation_id": "%016x" % random.getrandbits(64)},
         "recorded_at": "2026-11-23T09:14:03.%06dZ" % (i % 1000000),
         "source": {"database": "app", "lsn": "0/%X" % pos, "xid": 750 + i // 3,
                    "commit_time": "2026-11-23T09:14:03.%06dZ" % (i % 1000000)}}
    l = json.dumps(e, separators=(",", ":")) + "\n"
    lines.append(l); size += len(l)
    if size >= 5 * 1024 * 1024 and i % 3 == 2:
        flush(pos)
if lines:
    flush(pos)
print(made, "objects")
PY
aws --endpoint-url "$M" s3 cp --recursive --quiet "$TMP/arch/" s3://bench/
RAW=$(find "$TMP/arch" -name '*.gz' -exec gunzip -c {} + | wc -c)
GZ=$(find "$TMP/arch" -name '*.gz' -exec cat {} + | wc -c)
OBJS=$(find "$TMP/arch" -name '*.gz' | wc -l)

best() { # best CMD...: best wall time of 3 runs, in seconds
	local b=999999 t0 t i
	for i in 1 2 3; do
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>>"$TMP/bench.log" || es_die "failed: $* (see $TMP/bench.log)"
		t=$(echo "$(date +%s.%N) - $t0" | bc -l)
		b=$(echo "if ($t < $b) $t else $b" | bc -l)
	done
	printf '%.3f' "$b"
}
replay_stdout() { "$RELAY" replay --s3-bucket bench --s3-endpoint-url "$M" --region us-east-1 --no-progress; }
cli_baseline() {
	rm -rf "$TMP/dl" && aws --endpoint-url "$M" s3 cp --recursive --quiet s3://bench/events/ "$TMP/dl/" &&
		find "$TMP/dl" -name '*.gz' -exec gunzip -c {} + >/dev/null
}
T_REPLAY=$(best replay_stdout)
T_CLI=$(best cli_baseline)
LINES=$(replay_stdout 2>/dev/null | wc -l)
[[ $LINES == "$N" ]] || es_die "replay wrote $LINES events, expected $N"

T_KIN=
if [[ -d $ROOT/tests/node_modules/kinesalite ]]; then
	es_kinesalite_start
	es_kinesis_create "$ES_KINESALITE_URL" bench 4
	replay_kinesis() {
		"$RELAY" replay --s3-bucket bench --s3-endpoint-url "$M" --region us-east-1 --no-progress \
			--to kinesis --stream bench --endpoint-url "$ES_KINESALITE_URL"
	}
	T_KIN=$(best replay_kinesis)
fi

{
	echo "## S3 archive: replay throughput ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo
	echo "\`bench/s3_bench.sh $N\` on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg): $N envelopes,"
	echo "$OBJS objects, $RAW bytes NDJSON, $GZ bytes gzip, moto_server on loopback. Best of 3."
	echo
	echo "| reader | seconds | events/s | vs AWS CLI |"
	echo "| --- | ---: | ---: | ---: |"
	printf '| AWS CLI s3 cp --recursive + gunzip | %s | %.0f | 1.00 |\n' "$T_CLI" "$(echo "$N / $T_CLI" | bc -l)"
	printf '| eventrelay replay --to stdout | %s | %.0f | %.2f |\n' "$T_REPLAY" \
		"$(echo "$N / $T_REPLAY" | bc -l)" "$(echo "$T_CLI / $T_REPLAY" | bc -l)"
	if [[ -n $T_KIN ]]; then
		printf '| eventrelay replay --to kinesis (kinesalite, 4 shards) | %s | %.0f | %.2f |\n' "$T_KIN" \
			"$(echo "$N / $T_KIN" | bc -l)" "$(echo "$T_CLI / $T_KIN" | bc -l)"
	fi
} | tee "$OUT"
