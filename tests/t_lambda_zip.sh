#!/usr/bin/env bash
#
# t_lambda_zip.sh - the deployment package of the DynamoDB path, as
# terraform/modules/dynamodb_relay deploys it:
#   - scripts/build-lambda-zip.sh builds a zip with an executable `bootstrap`
#     at its root and the shared libraries under lib/; the bootstrap runs
#     from the unpacked zip with only those libraries
#   - the unpacked zip, run as a `provided` function by an independent Lambda
#     Runtime API (@vercel/fun) with exactly the environment the Terraform
#     module gives the function (evaluated by `terraform console`) plus the
#     emulator endpoint, publishes a DynamoDB stream batch to Kinesis on
#     moto_server (SigV4 checked) and answers no batch item failures

set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"
cd "$ES_ROOT"
TMP=$(es_tmpdir)
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" CHECKPOINT_DISABLE=1

[[ -f relay/Makefile ]] || {
	echo "skipped: no relay sources"
	exit 77
}

# --- the zip ----------------------------------------------------------------------
zip=$TMP/dist/eventrelay-lambda.zip
if ! bash scripts/build-lambda-zip.sh -o "$zip" >"$TMP/zip.log" 2>&1; then
	cat "$TMP/zip.log"
	es_not_ok "scripts/build-lambda-zip.sh builds the zip"
	es_done
	exit 1
fi
es_ok "scripts/build-lambda-zip.sh builds the zip"
FN=$TMP/fn
mkdir -p "$FN"
python3 - "$zip" "$FN" >"$TMP/list" <<'PY'
import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for i in z.infolist():
    print(oct(i.external_attr >> 16 & 0o777), i.filename)
    z.extract(i, sys.argv[2])
    os.chmod(os.path.join(sys.argv[2], i.filename), i.external_attr >> 16 & 0o777)
PY
es_check "the zip holds an executable bootstrap at its root" grep -qx '0o755 bootstrap' "$TMP/list"
# (json-c was bundled until the relay dropped it for its own JSON reader, issue 10)
es_check "the zip bundles libpq and libcurl under lib/, and no json-c" \
	bash -c "grep -q ' lib/libpq.so' '$TMP/list' && grep -q ' lib/libcurl.so' '$TMP/list' && ! grep -q ' lib/libjson-c.so' '$TMP/list'"
if env -i LD_LIBRARY_PATH="$FN/lib" "$FN/bootstrap" dynamodb --help >"$TMP/help" 2>&1 && grep -q dynamodb "$TMP/help"; then
	es_ok "the bootstrap runs from the unpacked zip (dynamodb --help)"
else
	cat "$TMP/help"
	es_not_ok "the bootstrap runs from the unpacked zip (dynamodb --help)"
fi
es_eq "the bootstrap resolves its libraries from lib/" "" \
	"$(env -i LD_LIBRARY_PATH="$FN/lib" ldd "$FN/bootstrap" | grep 'not found' || true)"
bash scripts/build-lambda-zip.sh -o "$TMP/dist/again.zip" >/dev/null 2>&1
es_eq "the zip is reproducible (same bytes when built twice)" "$(sha256sum <"$zip")" "$(sha256sum <"$TMP/dist/again.zip")"

# --- the function's environment, from the Terraform module ------------------------
TERRAFORM=$(command -v terraform || true)
FUNJS=$ES_ROOT/tests/node_modules/@vercel/fun
if [[ -z $TERRAFORM ]] || ! command -v node >/dev/null || [[ ! -d $FUNJS ]] || ! command -v moto_server >/dev/null; then
	es_log "terraform, node, @vercel/fun or moto_server missing: the zip was not run as a function"
	es_done
	exit
fi
: >"$TMP/terraformrc"
export TF_CLI_CONFIG_FILE=$TMP/terraformrc
cp -r terraform/modules/dynamodb_relay "$TMP/module"
rm -rf "$TMP/module/.terraform" "$TMP/module/.terraform.lock.hcl"
init_args=(-backend=false -input=false -no-color)
[[ -d /opt/tf-plugins ]] && init_args+=(-plugin-dir=/opt/tf-plugins)
"$TERRAFORM" -chdir="$TMP/module" init "${init_args[@]}" >"$TMP/init.log" 2>&1 || {
	cat "$TMP/init.log"
	es_die "terraform init failed"
}
echo 'jsonencode(local.environment)' |
	"$TERRAFORM" -chdir="$TMP/module" console \
		-var function_name=carts-relay -var zip_path=README.md -var aggregate_type=cart \
		-var table_stream_arn=arn:aws:dynamodb:us-east-1:123456789012:table/carts/stream/2026-11-23T08:00:00.000 \
		-var kinesis_stream_arn=arn:aws:kinesis:us-east-1:123456789012:stream/events \
		-var dead_letter_bucket_arn=arn:aws:s3:::archive 2>"$TMP/console.err" |
	python3 -c 'import json, sys; print(json.loads(sys.stdin.read()))' >"$TMP/env.json" 2>>"$TMP/console.err" || {
	cat "$TMP/console.err"
	es_die "terraform console could not evaluate the module's environment"
}
if jq -e '.EVENTRELAY_STREAM == "events" and .EVENTRELAY_SINK == "kinesis" and .EVENTRELAY_INPUT == "lambda" and .EVENTRELAY_DEAD_LETTER == "s3://archive/dead-letter/dynamodb"' "$TMP/env.json" >/dev/null; then
	es_ok "the module configures the relay through EVENTRELAY_* variables"
else
	cat "$TMP/env.json"
	es_not_ok "the module configures the relay through EVENTRELAY_* variables"
fi

# --- run the unpacked zip as a function ---------------------------------------------
es_moto_start
es_kinesis_create "$ES_MOTO_URL" events 2
aws --endpoint-url "$ES_MOTO_URL" s3api create-bucket --bucket archive >/dev/null
cat >"$TMP/drive.js" <<'JS'
const { createFunction } = require(process.env.FUNJS);
const fs = require('fs');
(async () => {
  const env = JSON.parse(fs.readFileSync(process.env.ENV_JSON, 'utf8'));
  env.AWS_ENDPOINT_URL = process.env.ES_MOTO_URL;
  env.AWS_EC2_METADATA_DISABLED = 'true';
  const fn = await createFunction({
    Code: { Directory: process.env.FN_DIR }, Handler: 'bootstrap', Runtime: 'provided',
    Region: 'us-east-1', AccessKeyId: process.env.AWS_ACCESS_KEY_ID,
    SecretAccessKey: process.env.AWS_SECRET_ACCESS_KEY, Timeout: 60,
    Environment: { Variables: env },
  });
  const event = JSON.parse(fs.readFileSync(process.env.EVENT, 'utf8'));
  try { console.log(JSON.stringify(await fn(event))); }
  catch (e) { console.log(JSON.stringify({ error: String(e.message || e) })); }
  await fn.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
JS
EVENT_FILE=relay/testdata/dynamodb/carts/batch.json
answer=$(FUNJS=$FUNJS FN_DIR=$FN ENV_JSON=$TMP/env.json EVENT=$EVENT_FILE timeout 120 node "$TMP/drive.js" 2>"$TMP/fun.log" || true)
es_eq "the function answers a clean batch with no item failures" '{"batchItemFailures":[]}' "$answer"
es_kinesis_read "$ES_MOTO_URL" events >"$TMP/kinesis.out" 2>"$TMP/kinesis.err" || true
expected=$(cd "$TMP" && "$FN/bootstrap" dynamodb --aggregate-type=cart <"$ES_ROOT/$EVENT_FILE" 2>/dev/null | jq -c '[.aggregate_id, .version, .type]' | sort)
got=$(jq -c '[.aggregate_id, .version, .type]' "$TMP/kinesis.out" | sort)
es_eq "the batch's events are in Kinesis, as stdin mode emits them" "$expected" "$got"
es_check "the envelopes carry the module's aggregate type" bash -c "[[ -s '$TMP/kinesis.out' ]] && jq -e -s 'all(.aggregate_type == \"cart\")' '$TMP/kinesis.out' >/dev/null"
[[ -n $expected ]] || es_not_ok "stdin mode emitted the batch's events (nothing to compare with)"

es_done
