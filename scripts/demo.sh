#!/usr/bin/env bash
#
# demo.sh - the event store on a local default, no cloud account: a throwaway
# PostgreSQL cluster with the extension, shopping carts opened and filled by a
# few concurrent clients (optimistic concurrency with retries), the carts
# rehydrated from their events, and the same events as the eventstore output
# plugin streams them (pg_recvlogical --plugin=eventstore).
#
#   scripts/demo.sh [--keep]    --keep leaves the cluster running and says how to stop it
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEP=0
case ${1-} in
--keep) KEEP=1 ;;
-h | --help)
	sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*)
	echo "demo.sh: unknown argument '$1' (try --help)" >&2
	exit 2
	;;
esac

bash "$ROOT/scripts/deps.sh" pg relay
source "$ROOT/tests/lib.sh"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building and installing the eventstore extension"
es_install_extension
if ((KEEP)); then
	ES_TMP=$(mktemp -d /tmp/eventstore-demo.XXXXXX)
	chmod 755 "$ES_TMP"
	export ES_TMP
fi
es_cluster_start
if ((KEEP)); then
	# Keep the cluster: drop the cleanup that would stop it.
	ES_CLEANUP=()
fi
echo "PostgreSQL $(es_psql -c 'SHOW server_version') on $PGHOST port $PGPORT (wal_level=$(es_psql -c 'SHOW wal_level'))"

say "CREATE EXTENSION eventstore; a login role for the app; a slot for the output plugin"
es_psql <<'SQL'
CREATE DATABASE shop;
SQL
export PGDATABASE=shop
es_psql <<'SQL'
CREATE EXTENSION eventstore;
CREATE ROLE shop_app LOGIN IN ROLE eventstore_writer;
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
"$PGBIN/pg_recvlogical" -d shop --slot demo --create-slot --plugin eventstore
"$PGBIN/pg_recvlogical" -d shop --slot demo --start -f "$ES_TMP/stream.ndjson" -s 1 -F 1 -o include-xids=off &
RECV_PID=$!
es_on_exit "kill $RECV_PID"

say "3 clients open 3 carts and add items to all of them concurrently"
CARTS=(5f0c2f43-7d6b-4d0e-9a61-2b7a1f8f3a10 9b1e4c22-0a55-4c3e-8d0f-6e2d7c1b5a99 c3a8d6e1-4f2b-4b7c-9e10-8a7f6d5c4b3a)
for i in 0 1 2; do
	es_psql -U shop_app -c "SELECT eventstore.append('${CARTS[$i]}', 'cart', 0,
		'[{\"type\": \"CartOpened\", \"data\": {\"customer\": \"customer-$i\"}}]')" >/dev/null
done
SKUS=(apple-juice oat-milk espresso-beans dark-chocolate sourdough)
for client in 1 2 3; do
	(
		for round in 1 2 3 4; do
			for idx in 0 1 2; do
				cart=${CARTS[$idx]}
				sku=${SKUS[$(((client * round + idx) % 5))]}
				PGAPPNAME="client-$client" es_psql -U shop_app -c \
					"SELECT retries FROM app.add_item('$cart', '$sku', $round, $((client + round)).99)"
			done
		done
	) >"$ES_TMP/client-$client.out" &
done
wait %2 %3 %4 2>/dev/null || wait
retries=$(cat "$ES_TMP"/client-*.out | awk '{s += $1} END {print s + 0}')
echo "appended $(es_psql -c 'SELECT count(*) FROM eventstore.events') events to ${#CARTS[@]} carts;" \
	"$retries appends lost an optimistic-concurrency race (VE001) and were retried"

say "one cart's events, loaded in order (eventstore.load)"
psql -X -d shop -P pager=off -c "SELECT version, type, data, metadata->>'client' AS client
	FROM eventstore.load('${CARTS[0]}') ORDER BY version"

say "every cart rehydrated by folding its events"
psql -X -d shop -P pager=off <<SQL
SELECT a.aggregate_id AS cart, a.version,
       (SELECT e.data->>'customer' FROM eventstore.load(a.aggregate_id) e WHERE e.type = 'CartOpened') AS customer,
       (SELECT jsonb_object_agg(sku, qty ORDER BY sku) FROM (
           SELECT e.data->>'sku' AS sku, sum((e.data->>'qty')::int) AS qty
             FROM eventstore.load(a.aggregate_id) e WHERE e.type = 'ItemAdded' GROUP BY 1) s) AS items,
       (SELECT sum((e.data->>'qty')::int * (e.data->>'price')::numeric)
          FROM eventstore.load(a.aggregate_id) e WHERE e.type = 'ItemAdded') AS total
  FROM eventstore.aggregates a ORDER BY a.created_at, a.aggregate_id;
SQL

say "the same events as the eventstore output plugin streamed them (pg_recvlogical, first 3 lines)"
total=$(es_psql -c 'SELECT count(*) FROM eventstore.events')
for ((i = 0; i < 100; i++)); do
	[[ -f $ES_TMP/stream.ndjson && $(wc -l <"$ES_TMP/stream.ndjson") -ge $total ]] && break
	sleep 0.1
done
head -n 3 "$ES_TMP/stream.ndjson"
echo "... $(wc -l <"$ES_TMP/stream.ndjson") lines streamed for $total events appended"

if ((KEEP)); then
	kill "$RECV_PID" 2>/dev/null || true
	say "left running"
	echo "connect:  psql -h $PGHOST -p $PGPORT -U postgres -d shop"
	echo "stop:     runuser -u postgres -- $PGBIN/pg_ctl -D $ES_PGDATA stop && rm -rf $ES_TMP"
fi
