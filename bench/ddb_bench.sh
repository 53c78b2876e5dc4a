#!/usr/bin/env bash
#
# ddb_bench.sh - throughput and start-up of the DynamoDB path's pluck.
#
#   bench/ddb_bench.sh [RECORDS]      (default 20000 stream records)
#
# Generates Lambda-style DynamoDB stream events (NDJSON, 100 records per
# event) for shopping carts whose Events list grows by 1-3 events per record
# (plus some REMOVEs and attribute-only changes), then, in the same run:
#   1. `eventrelay dynamodb --sink=stdout` (stdin mode) > /dev/null
#   2. jq doing the same pluck: typed JSON -> plain JSON of NewImage.Events
#      [len(OldImage.Events):], one envelope per event (no UUIDv5 event id,
#      which jq cannot compute, and numbers through doubles)
# reporting records/s and events/s (best of 3), and the time from process
# start to the first byte of output for a single record (median of 21 runs;
# for a Lambda custom runtime this is the part of the cold start that is
# ours).  Prints the table (also kept in bench/results/, not committed);
# it replaces the DynamoDB table of bench/RESULTS.md.
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECORDS=${1:-20000}
RELAY=$ROOT/relay/eventrelay
make -s -C "$ROOT/relay" eventrelay >/dev/null
command -v jq >/dev/null || { echo "jq is needed (scripts/deps.sh relay)" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ddb-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"

python3 - "$RECORDS" >input.ndjson <<'PY'
import json, random, sys
random.seed(6)
n = int(sys.argv[1])
carts = {}
arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/carts/stream/2026-11-23T08:00:00.000"
def event(i):
    if i == 0:
        return {"M": {"Name": {"S": "CartOpened"}, "Data": {"M": {"customer": {"S": "c-%d" % random.randint(1, 9999)}, "currency": {"S": "EUR"}}}}}
    return {"M": {"Name": {"S": "ItemAdded"}, "Data": {"M": {
        "sku": {"S": "SKU-%05d" % random.randint(1, 99999)}, "qty": {"N": str(random.randint(1, 9))},
        "price": {"N": "%d.%02d" % (random.randint(0, 500), random.randint(0, 99))},
        "gift": {"BOOL": random.random() < 0.1},
        "options": {"L": [{"S": "colour:red"}, {"N": "42"}]},
        "meta": {"M": {"source": {"S": "web"}, "ts": {"N": "1795424400123"}}}}}}}
records = []
seq = 10**21
for r in range(n):
    seq += 1
    ddb = {"ApproximateCreationDateTime": 1795424400 + r // 100, "SequenceNumber": str(seq), "SizeBytes": 500,
           "StreamViewType": "NEW_AND_OLD_IMAGES"}
    roll = random.random()
    live = [k for k, v in carts.items() if len(v) < 20]
    if roll < 0.03 and live:
        cid = random.choice(live)
        ev = carts.pop(cid)
        img = {"Uuid": {"S": cid}, "Events": {"L": ev}}
        ddb.update(Keys={"Uuid": {"S": cid}}, OldImage=img)
        name = "REMOVE"
    elif roll < 0.3 or not live:
        cid = "%08x-0000-4000-8000-%012x" % (r, r)
        carts[cid] = [event(0)]
        ddb.update(Keys={"Uuid": {"S": cid}}, NewImage={"Uuid": {"S": cid}, "Events": {"L": carts[cid]}})
        name = "INSERT"
    else:
        cid = random.choice(live)
        old = carts[cid]
        new = old + [event(len(old) + i) for i in range(random.choice([1, 1, 2, 3]))] if roll > 0.05 else old
        carts[cid] = new
        newimg = {"Uuid": {"S": cid}, "Events": {"L": new}}
        if roll <= 0.05:
            newimg["Status"] = {"S": "seen"}
        ddb.update(Keys={"Uuid": {"S": cid}}, NewImage=newimg, OldImage={"Uuid": {"S": cid}, "Events": {"L": old}})
        name = "MODIFY"
    records.append({"eventID": "%032x" % seq, "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                    "awsRegion": "eu-west-1", "dynamodb": ddb, "eventSourceARN": arn})
for i in range(0, n, 100):
    print(json.dumps({"Records": records[i:i + 100]}, separators=(",", ":")))
PY
# A single record that appends an event (an INSERT) for the start-up test.
jq -c -n 'first(inputs | .Records[] | select(.eventName == "INSERT")) | {Records: [.]}' input.ndjson >one.json

cat >pluck.jq <<'JQ'
def plain:
  if type != "object" then .
  elif has("S") then .S
  elif has("N") then (.N | tonumber)
  elif has("B") then {"$binary": .B}
  elif has("BOOL") then .BOOL
  elif has("NULL") then null
  elif has("M") then (.M | map_values(plain))
  elif has("L") then (.L | map(plain))
  elif has("SS") then .SS
  elif has("NS") then (.NS | map(tonumber))
  elif has("BS") then (.BS | map({"$binary": .}))
  else error("unknown type") end;
.Records[]
| select(.eventName != "REMOVE")
| . as $r
| ($r.dynamodb.OldImage.Events.L // [] | length) as $old
| ($r.dynamodb.NewImage.Events.L // []) as $new
| range($old; $new | length) as $i
| {aggregate_id: $r.dynamodb.Keys.Uuid.S, aggregate_type: "carts", version: ($i + 1),
   type: $new[$i].M.Name.S, data: ($new[$i].M.Data | plain), metadata: {},
   recorded_at: ($r.dynamodb.ApproximateCreationDateTime | todate),
   source: {kind: "dynamodb", table: "carts", sequence_number: $r.dynamodb.SequenceNumber,
            event_name: $r.eventName, event_source_arn: $r.eventSourceARN}}
JQ

events=$("$RELAY" dynamodb --sink=stdout --log-level=warn <input.ndjson | wc -l | tr -d ' ')
jq_events=$(jq -c -f pluck.jq input.ndjson | wc -l | tr -d ' ')
[[ $events == "$jq_events" ]] || { echo "relay emitted $events events, jq $jq_events" >&2; exit 1; }
bytes=$(wc -c <input.ndjson | tr -d ' ')

best_of_3() { # best_of_3 CMD...: "WALL CPU" seconds of the fastest of three runs
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
best = None
for _ in range(3):
    with open("input.ndjson", "rb") as f:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(sys.argv[1:], stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        d = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if best is None or d < best[0]:
        best = (d, cpu)
print("%.3f %.3f" % best)
PY
}
first_byte() { # first_byte CMD...: median ms from spawn to the first output byte
	python3 - "$@" <<'PY'
import os, subprocess, sys, time
data = open("one.json", "rb").read()
ts = []
for _ in range(21):
    t = time.perf_counter()
    p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdin.write(data)
    p.stdin.close()
    b = p.stdout.read(1)
    ts.append((time.perf_counter() - t) * 1000)
    p.stdout.read()
    p.wait()
    assert b, "no output"
ts.sort()
print("%.2f" % ts[len(ts) // 2])
PY
}

lambda_cold() { # median ms from spawning the bootstrap to its first /next, and to its first response
	python3 - "$RELAY" <<'PY'
import http.server, os, signal, socket, subprocess, sys, threading, time
payload = open("one.json", "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        st = self.server.st
        if "next" not in st:
            st["next"] = time.perf_counter()
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", "r1")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        else:  # the second /next waits for the end of the run
            st["done"].wait(5)
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        self.rfile.read(n)
        self.server.st["resp"] = time.perf_counter()
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.st["done"].set()
nx, rs = [], []
for _ in range(11):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.st = {"done": threading.Event()}
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % srv.server_address[1],
               EVENTRELAY_SINK="stdout", EVENTRELAY_LOG_LEVEL="warn",
               EVENTRELAY_DEAD_LETTER=os.path.join(os.getcwd(), "dead.ndjson"))
    t = time.perf_counter()
    p = subprocess.Popen([sys.argv[1]], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    srv.st["done"].wait(10)
    p.send_signal(signal.SIGTERM)
    srv.st["done"].set()
    p.wait(5)
    srv.shutdown()
    nx.append((srv.st["next"] - t) * 1000)
    rs.append((srv.st["resp"] - t) * 1000)
nx.sort(); rs.sort()
print("%.2f %.2f" % (nx[5], rs[5]))
PY
}

read -r t_relay c_relay < <(best_of_3 "$RELAY" dynamodb --sink=stdout --log-level=warn)
read -r t_jq c_jq < <(best_of_3 jq -c -f pluck.jq)
fb_relay=$(first_byte "$RELAY" dynamodb --sink=stdout --log-level=warn)
fb_jq=$(first_byte jq -c -f pluck.jq)
read -r lc_next lc_resp < <(lambda_cold)
rate() { python3 -c "print('%.0f' % ($1 / $2))"; }

report=$(
	cat <<MD

## DynamoDB path: stdin pluck vs jq ($(date -u +%Y-%m-%dT%H:%MZ))

\`bench/ddb_bench.sh $RECORDS\` on $(nproc) cores ($(uname -m)); input: $RECORDS stream records in
$((RECORDS / 100)) Lambda-style events, $((bytes / 1024)) KiB, giving $events events (1-3 appended per
MODIFY, REMOVEs and attribute-only changes skipped).  Throughput: best of 3; first byte:
median of 21 runs of one INSERT record.  jq 1.6 does the same pluck and conversion but
no UUIDv5 event ids, and turns numbers into doubles.  Load average at the end:
$(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: CPU seconds are the steadier figure).

| | wall | CPU | records/s | events/s | MiB/s in | start to first byte |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| \`eventrelay dynamodb --sink=stdout\` | ${t_relay} s | ${c_relay} s | $(rate "$RECORDS" "$t_relay") | $(rate "$events" "$t_relay") | $(python3 -c "print('%.1f' % ($bytes / 1048576 / $t_relay))") | ${fb_relay} ms |
| \`jq -c -f pluck.jq\` | ${t_jq} s | ${c_jq} s | $(rate "$RECORDS" "$t_jq") | $(rate "$events" "$t_jq") | $(python3 -c "print('%.1f' % ($bytes / 1048576 / $t_jq))") | ${fb_jq} ms |

Lambda custom runtime (\`bootstrap\` = the relay, no arguments, against a local fake Runtime
API, median of 11): process start to its first \`GET /invocation/next\` ${lc_next} ms; to the
\`POST .../response\` of a one-record invocation ${lc_resp} ms.
MD
)
echo "$report"
mkdir -p "$ROOT/bench/results"
echo "$report" >"$ROOT/bench/results/ddb-$(date -u +%Y%m%dT%H%M%SZ).md"
