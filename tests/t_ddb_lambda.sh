#!/usr/bin/env bash
#
# t_ddb_lambda.sh - eventrelay as the bootstrap of a custom-runtime Lambda,
# driven by @vercel/fun (an independent implementation of the Lambda Runtime
# API, tests/node_modules): DynamoDB stream batches in, batchItemFailures out.
#
#   - a bootstrap started without arguments goes to Lambda mode by itself
#   - a clean batch answers {"batchItemFailures":[]} and publishes its events
#   - a bad record (shrunk list) is reported with its sequence number and
#     nothing from it on is published
#   - a sink that cannot write reports the first record with events
#   - a payload that is not a stream event is an invocation error
#   - Kinesis writes that partly fail (fault-injecting proxy in front of
#     kinesalite) report the first record not fully published, and the retry
#     Lambda makes from there completes the stream with nothing lost
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RELAY=$ES_ROOT/relay/eventrelay
CARTS=$ES_ROOT/relay/testdata/dynamodb/carts
FUN=$ES_ROOT/tests/node_modules/@vercel/fun
command -v node >/dev/null || { echo "skip: node is not installed"; exit 77; }
[[ -d $FUN ]] || { echo "skip: @vercel/fun missing (bash scripts/deps.sh node)"; exit 77; }
make -s -C "$ES_ROOT/relay" eventrelay >/dev/null
TMP=$(es_tmpdir)

# The driver: creates a `provided` function from a directory with a
# bootstrap, invokes it once per input line, prints each answer as a line.
cat >"$TMP/drive.js" <<'JS'
const { createFunction } = require(process.env.FUN);
const fs = require('fs');
(async () => {
  const fn = await createFunction({
    Code: { Directory: process.env.FN_DIR }, Handler: 'bootstrap', Runtime: 'provided',
    Region: 'us-east-1', AccessKeyId: 'test', SecretAccessKey: 'test', Timeout: 30,
    Environment: { Variables: JSON.parse(process.env.FN_ENV || '{}') },
  });
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.trim());
  for (const line of lines) {
    try { console.log(JSON.stringify(await fn(JSON.parse(line)))); }
    catch (e) { console.log(JSON.stringify({ error: String(e.message || e) })); }
  }
  await fn.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
JS

# make_fn NAME BOOTSTRAP-COMMAND: a function directory whose bootstrap runs the command.
make_fn() {
	mkdir -p "$TMP/$1"
	printf '#!/bin/sh\n%s\n' "$2" >"$TMP/$1/bootstrap"
	chmod +x "$TMP/$1/bootstrap"
}
# invoke NAME ENV-JSON < payloads: one answer line per payload line.
invoke() {
	FUN=$FUN FN_DIR=$TMP/$1 FN_ENV=$2 timeout 120 node "$TMP/drive.js"
}
# records FILE...: one Lambda event holding the records of all the files.
records() { jq -c -s '{Records: map(.Records[])}' "$@"; }
seq_of() { jq -r '.Records[0].dynamodb.SequenceNumber' "$1"; }

# --- 1. stdout sink, bootstrap without arguments ------------------------------
make_fn plain "cd '$TMP' && exec '$RELAY' >>'$TMP/plain.out' 2>>'$TMP/plain.log'"
{
	records "$CARTS/batch.json"
	records "$CARTS/shrunk-list.json"
	records "$CARTS/cart-opened.json" "$CARTS/item-added.json" "$CARTS/middle-changed.json" "$CARTS/items-added-several.json"
	echo '{"hello":"not a stream event"}'
} >"$TMP/plain.in"
invoke plain '{"EVENTRELAY_SINK":"stdout"}' <"$TMP/plain.in" >"$TMP/plain.answers"
mapfile -t ans <"$TMP/plain.answers"
es_eq "clean batch: no failures" '{"batchItemFailures":[]}' "${ans[0]}"
es_eq "shrunk list: reported with its sequence number" \
	"{\"batchItemFailures\":[{\"itemIdentifier\":\"$(seq_of "$CARTS/shrunk-list.json")\"}]}" "${ans[1]}"
es_eq "changed in the middle: batch stops at that record" \
	"{\"batchItemFailures\":[{\"itemIdentifier\":\"$(seq_of "$CARTS/middle-changed.json")\"}]}" "${ans[2]}"
es_check "not a stream event: invocation error" grep -q '"error":"input value is neither' <<<"${ans[3]}"
# Published: batch.json's 5 events, then the 2 events before the bad record.
got=$(jq -r '"\(.aggregate_id[0:8]) v\(.version) \(.type)"' "$TMP/plain.out" | paste -sd, -)
es_eq "events published in order, none from a failed record on" \
	"0b6c1f2e v1 CartOpened,5e2a9c4d v1 CartOpened,0b6c1f2e v2 ItemAdded,0b6c1f2e v3 ItemAdded,0b6c1f2e v4 ItemAdded,0b6c1f2e v1 CartOpened,0b6c1f2e v2 ItemAdded" \
	"$got"
es_eq "envelopes equal stdin mode's" "$(cd "$TMP" && "$RELAY" dynamodb <"$CARTS/batch.json" 2>/dev/null)" \
	"$(head -n 5 "$TMP/plain.out")"
es_check "skips are logged with their reason" grep -q '"skip":"remove"' "$TMP/plain.log"

# --- 2. a sink that cannot write ----------------------------------------------
make_fn full "cd '$TMP' && exec '$RELAY' dynamodb --sink=stdout >/dev/full 2>>'$TMP/full.log'"
ans=$(records "$CARTS/batch.json" | invoke full '{}')
es_eq "unwritable sink: first record reported" \
	"{\"batchItemFailures\":[{\"itemIdentifier\":\"$(seq_of "$CARTS/batch.json")\"}]}" "$ans"

# --- 3. Kinesis with partly failing PutRecords ----------------------------------
# kinesalite behind a proxy that fails chosen PutRecords entries: entries
# whose data contains FAULT's "match" are cut from the request and answered
# as ProvisionedThroughputExceededException ("times" calls, -1 = always),
# so the stream really lacks them, as with a real partial failure.
probe=$(cd "$TMP" && "$RELAY" dynamodb --sink=kinesis --stream=x --region=us-east-1 \
	--endpoint-url=http://127.0.0.1:9 </dev/null 2>&1 || true)
if grep -q 'not built yet' <<<"$probe"; then
	es_ok "# SKIP kinesis part: the Kinesis sink is not built yet"
	es_done
	exit
fi
KPORT=$(es_free_port)
PPORT=$(es_free_port)
cat >"$TMP/kinesis.js" <<'JS'
const http = require('http');
const fs = require('fs');
const [kport, pport, faultFile] = process.argv.slice(2).map((v, i) => (i < 2 ? Number(v) : v));
require(require.resolve('kinesalite', { paths: [process.env.MODS] }))({ createStreamMs: 0 })
  .listen(kport, '127.0.0.1');
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body = Buffer.concat(chunks);
    let fault = {};
    try { fault = JSON.parse(fs.readFileSync(faultFile, 'utf8')); } catch (e) {}
    const put = /PutRecords$/.test(req.headers['x-amz-target'] || '');
    let cut = [];
    if (put && fault.match && fault.times !== 0) {
      const j = JSON.parse(body);
      const keep = [];
      j.Records.forEach((r, i) => {
        if (Buffer.from(r.Data, 'base64').toString().includes(fault.match)) cut.push(i); else keep.push(r);
      });
      if (cut.length) {
        if (fault.times > 0) fault.times--;
        fs.writeFileSync(faultFile, JSON.stringify(fault));
        fs.appendFileSync(faultFile + '.log', `failed ${cut.length} of ${j.Records.length}\n`);
        j.Records = keep;
        body = Buffer.from(JSON.stringify(j));
        if (keep.length === 0) { // nothing left to forward: answer for the stream
          const out = JSON.stringify({ FailedRecordCount: cut.length, Records: cut.map(() => ({
            ErrorCode: 'ProvisionedThroughputExceededException',
            ErrorMessage: 'Rate exceeded for shard (injected by the test proxy)' })) });
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(out);
          return;
        }
      }
    }
    const headers = { ...req.headers, 'content-length': body.length };
    const up = http.request({ host: '127.0.0.1', port: kport, method: req.method, path: req.url, headers }, (ur) => {
      const rc = [];
      ur.on('data', (c) => rc.push(c));
      ur.on('end', () => {
        let out = Buffer.concat(rc);
        if (cut.length && ur.statusCode === 200) {
          const j = JSON.parse(out);
          const recs = [];
          let k = 0;
          for (let i = 0; i < j.Records.length + cut.length; i++) {
            if (cut.includes(i)) recs.push({ ErrorCode: 'ProvisionedThroughputExceededException',
              ErrorMessage: 'Rate exceeded for shard (injected by the test proxy)' });
            else recs.push(j.Records[k++]);
          }
          j.Records = recs;
          j.FailedRecordCount = (j.FailedRecordCount || 0) + cut.length;
          out = Buffer.from(JSON.stringify(j));
        }
        const h = { ...ur.headers, 'content-length': out.length };
        delete h['transfer-encoding'];
        res.writeHead(ur.statusCode, h);
        res.end(out);
      });
    });
    up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
    up.end(body);
  });
}).listen(pport, '127.0.0.1');
JS
echo '{}' >"$TMP/fault.json"
MODS=$ES_ROOT/tests/node_modules node "$TMP/kinesis.js" "$KPORT" "$PPORT" "$TMP/fault.json" >"$TMP/kinesis.log" 2>&1 &
KPID=$!
es_on_exit "kill $KPID"
es_wait_port "$KPORT" 20 && es_wait_port "$PPORT" 20 || es_die "kinesalite or the proxy did not start"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
kaws() { aws --endpoint-url "http://127.0.0.1:$KPORT" kinesis "$@"; }
kaws create-stream --stream-name cart-events --shard-count 1
read_kinesis() { # every record in the stream, as envelopes, in stream order
	local it out
	it=$(kaws get-shard-iterator --stream-name cart-events --shard-id shardId-000000000000 \
		--shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
	out=$(kaws get-records --shard-iterator "$it" --limit 1000 --output json)
	jq -r '.Records[].Data' <<<"$out" | while read -r d; do base64 -d <<<"$d"; echo; done
}

make_fn kin "cd '$TMP' && exec '$RELAY' dynamodb --stream=cart-events --endpoint-url=http://127.0.0.1:$PPORT \
--retry-base-ms=20 --retry-max-ms=200 --linger-ms=5 --publish-timeout-ms=3000 --dead-letter='$TMP/dead-letter.ndjson' 2>>'$TMP/kin.log'"
CART_B=5e2a9c4d-1b3f-4a6e-8d7c-9f0e1a2b3c4d
SEQ1=$(jq -r '.Records[1].dynamodb.SequenceNumber' "$CARTS/batch.json")
{
	# (a) two B-7 events fail twice, then go through on the sink's retries
	echo '{"match":"B-7","times":2}' >"$TMP/fault.json"
	records "$CARTS/batch.json"
} | invoke kin '{}' >"$TMP/kin.a"
es_eq "transient partial failure: retried inside the invocation" '{"batchItemFailures":[]}' "$(cat "$TMP/kin.a")"
es_eq "transient partial failure: proxy really failed entries" "2" "$(wc -l <"$TMP/fault.json.log" | tr -d ' ')"
es_eq "transient partial failure: each event once, in order per cart" \
	"0b6c1f2e v1 v2 v3 v4,5e2a9c4d v1" \
	"$(read_kinesis | jq -r '"\(.aggregate_id[0:8]) v\(.version)"' | awk '{v[$1]=v[$1]" "$2} END {for (k in v) print k v[k]}' | sort | paste -sd, -)"

# (b) cart B's events always fail: the answer names record 1 (B's INSERT),
# the first record not fully published; Lambda's retry from there completes.
kaws delete-stream --stream-name cart-events
sleep 0.5
kaws create-stream --stream-name cart-events --shard-count 1
echo "{\"match\":\"$CART_B\",\"times\":-1}" >"$TMP/fault.json"
ans=$(records "$CARTS/batch.json" | invoke kin '{}')
es_eq "persistent partial failure: first record not fully published" \
	"{\"batchItemFailures\":[{\"itemIdentifier\":\"$SEQ1\"}]}" "$ans"
es_check "persistent partial failure: nothing of cart B in the stream" \
	bash -c "! grep -q '$CART_B' <<<\"\$1\"" _ "$(read_kinesis)"
echo '{}' >"$TMP/fault.json"
ans=$(jq -c "{Records: .Records | map(select((.dynamodb.SequenceNumber|tonumber) >= ($SEQ1|tonumber)))}" "$CARTS/batch.json" |
	invoke kin '{}')
es_eq "retry from the reported record succeeds" '{"batchItemFailures":[]}' "$ans"
read_kinesis >"$TMP/kin.b"
es_eq "after the retry: every event present" "0b6c1f2e:1,0b6c1f2e:2,0b6c1f2e:3,0b6c1f2e:4,5e2a9c4d:1" \
	"$(jq -r '"\(.aggregate_id[0:8]):\(.version)"' "$TMP/kin.b" | sort -u | paste -sd, -)"
es_eq "duplicates carry the same event id" "5" "$(jq -r .event_id "$TMP/kin.b" | sort -u | wc -l | tr -d ' ')"
es_eq "first arrivals in order per cart" "0b6c1f2e v1 v2 v3 v4,5e2a9c4d v1" \
	"$(jq -r '"\(.aggregate_id[0:8]) v\(.version)"' "$TMP/kin.b" | awk '!seen[$0]++' |
		awk '{v[$1]=v[$1]" "$2} END {for (k in v) print k v[k]}' | sort | paste -sd, -)"

es_done
