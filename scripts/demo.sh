#!/usr/bin/env bash
#
# demo.sh - the whole pipeline on a local default, no Docker, no AWS account:
#
#   PostgreSQL (throwaway cluster) + CREATE EXTENSION eventstore
#     -> shopping carts opened and filled by a few concurrent clients
#        (optimistic concurrency, retried on conflict), rehydrated from events
#     -> the eventstore output plugin -> eventrelay -> Kinesis + S3
#        (moto_server on 127.0.0.1 stands in for both, with SigV4 checked)
#     -> read back with the AWS CLI, the relay's metrics, a summary
#   and the DynamoDB path on the bundled sample stream records.
#
#   scripts/demo.sh [--keep]   --keep leaves everything running and says how to stop it
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEP=0
case ${1-} in
--keep) KEEP=1 ;;
-h | --help)
	sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*)
	echo "demo.sh: unknown argument '$1' (try --help)" >&2
	exit 2
	;;
esac

bash "$ROOT/scripts/deps.sh" pg relay aws node
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/lib_aws.sh"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""

say "building the extension and the relay"
es_install_extension
RELAY=$(es_relay_bin)
if ((KEEP)); then
	ES_TMP=$(mktemp -d /tmp/eventstore-demo.XXXXXX)
	chmod 755 "$ES_TMP"
	export ES_TMP
fi
es_cluster_start
echo "PostgreSQL $(es_psql -c 'SHOW server_version') on $PGHOST port $PGPORT, wal_level=$(es_psql -c 'SHOW wal_level')"

say "CREATE EXTENSION eventstore; roles for the app (writer) and the relay (REPLICATION)"
es_psql -c "CREATE DATABASE shop" >/dev/null
export PGDATABASE=shop
es_psql >/dev/null <<'SQL'
CREATE EXTENSION eventstore;
CREATE ROLE shop_app LOGIN IN ROLE eventstore_writer;
CREATE ROLE shop_relay LOGIN REPLICATION IN ROLE eventstore_relay;
-- The app's own helper: add an item with optimistic concurrency, retrying
-- when another client appended to the same cart first (SQLSTATE VE001).
CREATE SCHEMA app AUTHORIZATION shop_app;
SET ROLE shop_app;
CREATE FUNCTION app.add_item(cart uuid, sku text, qty int, price numeric, OUT version bigint, OUT retries int)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	retries := 0;
	LOOP
		BEGIN
			version := eventstore.append(cart, 'cart', eventstore.version(cart),
				jsonb_build_array(jsonb_build_object('type', 'ItemAdded',
					'data', jsonb_build_object('sku', sku, 'qty', qty, 'price', price),
					'metadata', jsonb_build_object('client', current_setting('application_name')))));
			RETURN;
		EXCEPTION WHEN SQLSTATE 'VE001' THEN
			retries := retries + 1;
		END;
	END LOOP;
END
$$;
RESET ROLE;
SQL
echo "roles: shop_app (eventstore_writer), shop_relay (eventstore_relay + REPLICATION)"

say "Kinesis and S3 on 127.0.0.1 (moto_server, signatures checked), the stream and the bucket"
es_moto_start
es_kinesis_create "$ES_MOTO_URL" shop-events 2
aws --endpoint-url "$ES_MOTO_URL" s3api create-bucket --bucket shop-archive >/dev/null
echo "endpoint $ES_MOTO_URL: stream shop-events (2 shards), bucket shop-archive"

say "eventrelay: slot 'shop' -> Kinesis stream shop-events + S3 s3://shop-archive/events/"
METRICS_PORT=$(es_free_port)
"$RELAY" run --dbname "host=$PGHOST port=$PGPORT dbname=shop user=shop_relay" --slot shop --create-slot \
	--sink kinesis --sink s3 --stream shop-events --region us-east-1 --endpoint-url "$ES_MOTO_URL" \
	--s3-bucket shop-archive --s3-prefix events --s3-endpoint-url "$ES_MOTO_URL" --s3-max-object-age 2s \
	--dead-letter "$ES_TMP/dead-letter.ndjson" --metrics-port "$METRICS_PORT" --log-level info \
	2>"$ES_TMP/relay.log" &
RELAY_PID=$!
es_on_exit "kill -TERM $RELAY_PID; sleep 1"
es_wait_port "$METRICS_PORT" 30 || {
	tail -n 20 "$ES_TMP/relay.log" >&2
	es_die "the relay did not start"
}
for ((i = 0; i < 100; i++)); do
	[[ -n $(es_psql -c "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'shop' AND active") ]] && break
	sleep 0.1
done
echo "relay pid $RELAY_PID, metrics on http://127.0.0.1:$METRICS_PORT/metrics, log $ES_TMP/relay.log"

say "3 clients open 3 carts and add items to all of them concurrently"
CARTS=(5f0c2f43-7d6b-4d0e-9a61-2b7a1f8f3a10 9b1e4c22-0a55-4c3e-8d0f-6e2d7c1b5a99 c3a8d6e1-4f2b-4b7c-9e10-8a7f6d5c4b3a)
for i in 0 1 2; do
	es_psql -U shop_app -c "SELECT eventstore.append('${CARTS[$i]}', 'cart', 0,
		'[{\"type\": \"CartOpened\", \"data\": {\"customer\": \"customer-$i\"}}]')" >/dev/null
done
SKUS=(apple-juice oat-milk espresso-beans dark-chocolate sourdough)
CLIENT_PIDS=()
for client in 1 2 3; do
	(
		for round in 1 2 3 4 5 6; do
			for idx in 0 1 2; do
				sku=${SKUS[$(((client * round + idx) % 5))]}
				PGAPPNAME="client-$client" es_psql -U shop_app -c \
					"SELECT retries FROM app.add_item('${CARTS[$idx]}', '$sku', $round, $((client + round)).99)"
			done
		done
	) >"$ES_TMP/client-$client.out" &
	CLIENT_PIDS+=($!)
done
wait "${CLIENT_PIDS[@]}"
APPENDED=$(es_psql -c 'SELECT count(*) FROM eventstore.events')
retries=$(cat "$ES_TMP"/client-*.out | awk '{s += $1} END {print s + 0}')
echo "appended $APPENDED events to ${#CARTS[@]} carts; $retries appends lost an optimistic-concurrency race (VE001) and were retried"

say "one cart's events, loaded in order (eventstore.load)"
psql -X -P pager=off -c "SELECT version, type, data, metadata->>'client' AS client
	FROM eventstore.load('${CARTS[0]}') ORDER BY version"

say "every cart rehydrated by folding its events"
psql -X -P pager=off <<SQL
SELECT a.aggregate_id AS cart, a.version,
       (SELECT e.data->>'customer' FROM eventstore.load(a.aggregate_id) e WHERE e.type = 'CartOpened') AS customer,
       (SELECT jsonb_object_agg(sku, qty ORDER BY sku) FROM (
           SELECT e.data->>'sku' AS sku, sum((e.data->>'qty')::int) AS qty
             FROM eventstore.load(a.aggregate_id) e WHERE e.type = 'ItemAdded' GROUP BY 1) s) AS items,
       (SELECT sum((e.data->>'qty')::int * (e.data->>'price')::numeric)
          FROM eventstore.load(a.aggregate_id) e WHERE e.type = 'ItemAdded') AS total
  FROM eventstore.aggregates a ORDER BY a.created_at, a.aggregate_id;
SQL

say "waiting for the relay: the slot moves once Kinesis and S3 both acknowledged"
if es_wait_caught_up shop 60; then
	echo "slot 'shop' confirmed up to $(es_psql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'shop'")"
else
	echo "the relay did not catch up within 60 s; its log:"
	tail -n 20 "$ES_TMP/relay.log"
fi

say "read back from Kinesis with the AWS CLI (an independent client)"
es_kinesis_read "$ES_MOTO_URL" shop-events >"$ES_TMP/kinesis.ndjson"
head -n 2 "$ES_TMP/kinesis.ndjson" | jq -c '{aggregate_id, version, type, data, lsn: .source.lsn}'
echo "..."
check=$(es_check_events "$ES_TMP/kinesis.ndjson" || true)
echo "kinesis: $check"

say "the S3 archive (aws s3 ls / cp)"
aws --endpoint-url "$ES_MOTO_URL" s3 ls --recursive s3://shop-archive/ | tee "$ES_TMP/s3.ls"
: >"$ES_TMP/archive.ndjson"
while read -r _ _ _ key; do
	[[ -n $key ]] || continue
	aws --endpoint-url "$ES_MOTO_URL" s3 cp "s3://shop-archive/$key" - | gzip -dc >>"$ES_TMP/archive.ndjson"
done <"$ES_TMP/s3.ls"
echo "archive: $(wc -l <"$ES_TMP/archive.ndjson") events in $(wc -l <"$ES_TMP/s3.ls") objects; $(es_check_events "$ES_TMP/archive.ndjson" || true)"

say "the relay's metrics (Prometheus text)"
curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep -E '^eventrelay_(events_received_total|transactions_total|sink_records_total|sink_batches_total|sink_retries_total|acked_lsn|lag_bytes|lag_seconds)' || true

say "the DynamoDB path: bundled DynamoDB Streams records -> the same envelope"
for f in cart-opened.json item-added.json items-added-several.json cart-removed.json; do
	echo "# $f"
	"$RELAY" dynamodb --input stdin --sink stdout --aggregate-type cart <"$ROOT/relay/testdata/dynamodb/carts/$f" \
		2>>"$ES_TMP/ddb.log" | jq -c '{aggregate_id, version, type, data, source}' || true
done

say "summary"
KIN=$(jq -s 'map(.aggregate_id + ":" + (.version | tostring)) | unique | length' "$ES_TMP/kinesis.ndjson")
ARC=$(jq -s 'map(.aggregate_id + ":" + (.version | tostring)) | unique | length' "$ES_TMP/archive.ndjson")
LAT=$(aws --endpoint-url "$ES_MOTO_URL" kinesis list-shards --stream-name shop-events --query 'Shards[].ShardId' --output text |
	tr '\t' '\n' | while read -r shard; do
		it=$(aws --endpoint-url "$ES_MOTO_URL" kinesis get-shard-iterator --stream-name shop-events --shard-id "$shard" \
			--shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
		aws --endpoint-url "$ES_MOTO_URL" kinesis get-records --shard-iterator "$it" --limit 10000
	done | python3 -c '
import sys, json, base64, datetime
dec = json.JSONDecoder(); text = sys.stdin.read(); pos = 0; lat = []
while pos < len(text):
    while pos < len(text) and text[pos].isspace(): pos += 1
    if pos >= len(text): break
    doc, pos = dec.raw_decode(text, pos)
    for r in doc["Records"]:
        e = json.loads(base64.b64decode(r["Data"]))
        ct = datetime.datetime.fromisoformat(e["source"]["commit_time"].replace("Z", "+00:00")).timestamp()
        at = r["ApproximateArrivalTimestamp"]
        at = at if isinstance(at, (int, float)) else datetime.datetime.fromisoformat(str(at)).timestamp()
        lat.append((at - ct) * 1000)
lat.sort()
if lat: print("p50 %.0f ms, max %.0f ms (commit -> record stored in Kinesis)" % (lat[len(lat)//2], lat[-1]))
else: print("n/a")')
printf '  events appended      %s\n' "$APPENDED"
printf '  relayed to Kinesis   %s distinct (%s records read back)\n' "$KIN" "$(wc -l <"$ES_TMP/kinesis.ndjson")"
printf '  archived to S3       %s distinct in %s objects\n' "$ARC" "$(wc -l <"$ES_TMP/s3.ls")"
printf '  end-to-end latency   %s\n' "$LAT"

if ((KEEP)); then
	ES_CLEANUP=()
	say "left running"
	echo "psql:     psql -h $PGHOST -p $PGPORT -U postgres -d shop"
	echo "metrics:  curl http://127.0.0.1:$METRICS_PORT/metrics"
	echo "aws:      AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=... aws --endpoint-url $ES_MOTO_URL kinesis list-streams"
	echo "stop:     kill $RELAY_PID $(pgrep -f "moto_server.*$(echo "$ES_MOTO_URL" | sed 's/.*://')" | tr '\n' ' ')" \
		"&& runuser -u postgres -- $PGBIN/pg_ctl -D $ES_PGDATA stop && rm -rf $ES_TMP"
elif [[ $KIN != "$APPENDED" || $ARC != "$APPENDED" ]]; then
	echo "demo: not every event arrived (see $ES_TMP/relay.log)" >&2
	exit 1
fi
