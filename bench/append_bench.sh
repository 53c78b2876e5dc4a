#!/usr/bin/env bash
#
# append_bench.sh - append throughput of eventstore.append() against the same
# rows written by hand-written SQL (UPDATE the aggregate row + one multi-row
# INSERT of the events), in the same run, on a throwaway durable cluster
# (fsync=on, synchronous_commit=on).  Then load() speed for an aggregate of
# 10,000 events against a plain SELECT of the same rows.
#
#   bench/append_bench.sh            environment: TXNS (per run, default 6000),
#                                    K (events per append, 10), CLIENTS (2),
#                                    REPEATS (3), NAGGS (20000),
#                                    SQL_FLAVOUR (0; 1: also the SQL flavour of
#                                    the extension, in a database of its own),
#                                    EXPECTED (any: expected_version NULL;
#                                    checked: each transaction reads the
#                                    aggregate's version and appends at it,
#                                    every variant; each client has its own
#                                    aggregates, so no check fails)
# Prints a table and the ratios; the median of REPEATS runs is reported, the
# variants take turns so that none always runs on a warmer cache.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lib.sh"

TXNS=${TXNS:-6000}
K=${K:-10}
CLIENTS=${CLIENTS:-2}
REPEATS=${REPEATS:-3}
NAGGS=${NAGGS:-20000}
SQL_FLAVOUR=${SQL_FLAVOUR:-0}
EXPECTED=${EXPECTED:-any}
[[ $EXPECTED == any || $EXPECTED == checked ]] || es_die "EXPECTED must be any or checked"

es_install_extension
es_cluster_start "fsync = on" "synchronous_commit = on" "shared_buffers = 256MB" "max_wal_size = 4GB"
es_psql -c "CREATE EXTENSION eventstore" >/dev/null
if ((SQL_FLAVOUR)); then
	es_psql -c "CREATE DATABASE sqlflavour" >/dev/null
	es_psql -d sqlflavour -c "CREATE EXTENSION eventstore VERSION '$(sed -nE "s/^default_version = '([^']+)'/\1/p" "$ES_ROOT/eventstore.control")-sql'" >/dev/null
fi
es_psql >/dev/null <<SQL
CREATE TABLE public.aggregates (id uuid PRIMARY KEY, type text NOT NULL, version bigint NOT NULL);
CREATE TABLE public.events (
	aggregate_id uuid NOT NULL, version bigint NOT NULL, aggregate_type text NOT NULL,
	event_id uuid NOT NULL UNIQUE, type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (aggregate_id, version));
INSERT INTO public.aggregates SELECT md5('agg-' || i)::uuid, 'cart', 0 FROM generate_series(1, $NAGGS) i;
VACUUM ANALYZE;
SQL

# The same ~200-byte data and ~130-byte metadata per event in both variants.
DATA="jsonb_build_object('item_name', 'Item ' || substr(h, 1, 24), 'sku', 'SKU-' || upper(substr(h, 25, 8)),
      'quantity', 1 + i % 9, 'price', round(((:aid * 31 + i * 7919) % 100000) / 100.0, 2), 'currency', 'EUR',
      'warehouse', 'WH-' || lpad((:aid % 16)::text, 2, '0'), 'note', 'added from web checkout, campaign ' || substr(h, 9, 12))"
META="jsonb_build_object('correlation_id', md5('corr-' || h)::uuid, 'causation_id', md5('caus-' || h)::uuid, 'user_id', 'user-' || (:aid % 5000))"
TYPE="(ARRAY['ItemAdded', 'ItemQuantityChanged', 'ItemRemoved'])[1 + i % 3]"

# EXPECTED=checked: client c appends only to aggregates c, c + CLIENTS, ...
if [[ $EXPECTED == checked ]]; then
	AID="\\set aid 1 + random(0, $NAGGS / $CLIENTS - 1) * $CLIENTS + :client_id"
	HANDREAD="SELECT version AS v FROM public.aggregates WHERE id = md5('agg-' || :aid)::uuid \\gset"
	HANDCHECK="AND version = :v"
	APPREAD="SELECT eventstore.version(md5('agg-' || :aid)::uuid) AS v \\gset"
	APPVER=":v"
else
	AID="\\set aid random(1, $NAGGS)"
	HANDREAD="" HANDCHECK="" APPREAD="" APPVER=NULL
fi

cat >"$ES_TMP/hand.sql" <<SQL
$AID
BEGIN;
$HANDREAD
UPDATE public.aggregates SET version = version + $K WHERE id = md5('agg-' || :aid)::uuid $HANDCHECK RETURNING version AS newver \gset
INSERT INTO public.events (aggregate_id, version, aggregate_type, event_id, type, data, metadata)
SELECT md5('agg-' || :aid)::uuid, :newver - $K + i, 'cart', gen_random_uuid(), $TYPE, $DATA, $META
  FROM generate_series(1, $K) i, LATERAL (SELECT md5(:aid || '/' || i || '/' || random()) AS h) x;
COMMIT;
SQL
cat >"$ES_TMP/append.sql" <<SQL
$AID
$APPREAD
SELECT eventstore.append(md5('agg-' || :aid)::uuid, 'cart', $APPVER,
       (SELECT jsonb_agg(jsonb_build_object('type', $TYPE, 'data', $DATA, 'metadata', $META) ORDER BY i)
          FROM generate_series(1, $K) i, LATERAL (SELECT md5(:aid || '/' || i || '/' || random()) AS h) x));
SQL

run() { # run NAME SCRIPT [DATABASE]: prints events/s
	local tps
	"$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -t $((TXNS / CLIENTS)) -f "$2" "${3:-postgres}" \
		>"$ES_TMP/$1.log" 2>&1 || {
		cat "$ES_TMP/$1.log" >&2
		es_die "pgbench $1 failed"
	}
	tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$ES_TMP/$1.log" | tail -n 1)
	awk -v t="$tps" -v k="$K" 'BEGIN { printf "%.0f\n", t * k }'
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

declare -a HAND=() APPEND=() SQLF=()
for ((r = 1; r <= REPEATS; r++)); do
	# rotate the order: hand, C, SQL / C, SQL, hand / SQL, hand, C ...
	order=(hand append)
	((SQL_FLAVOUR)) && order+=(sqlf)
	for ((i = 0; i < ${#order[@]}; i++)); do
		case ${order[(i + r - 1) % ${#order[@]}]} in
		hand) HAND+=("$(run hand "$ES_TMP/hand.sql")") ;;
		append) APPEND+=("$(run append "$ES_TMP/append.sql")") ;;
		sqlf) SQLF+=("$(run sqlf "$ES_TMP/append.sql" sqlflavour)") ;;
		esac
	done
	es_log "round $r: hand-written SQL ${HAND[-1]} events/s, eventstore.append ${APPEND[-1]} events/s${SQLF:+, SQL flavour ${SQLF[-1]} events/s}"
	es_psql -c "CHECKPOINT" >/dev/null
done
h=$(printf '%s\n' "${HAND[@]}" | median)
a=$(printf '%s\n' "${APPEND[@]}" | median)
n=$(es_psql -c "SELECT count(*) FROM eventstore.events")
nh=$(es_psql -c "SELECT count(*) FROM public.events")

# load(): one aggregate of 10,000 events, fetched whole by the client.
es_psql -c "SELECT eventstore.append('10000000-0000-0000-0000-000000010000', 'bulk', 0,
	(SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('sku', md5(i::text), 'qty', i)) ORDER BY i)
	   FROM generate_series(1, 10000) i))" >/dev/null
echo "SELECT * FROM eventstore.load('10000000-0000-0000-0000-000000010000');" >"$ES_TMP/load.sql"
echo "SELECT * FROM eventstore.events WHERE aggregate_id = '10000000-0000-0000-0000-000000010000' ORDER BY version;" >"$ES_TMP/select.sql"
loadrun() {
	"$PGBIN/pgbench" -n -M prepared -c 1 -t 40 -f "$1" postgres 2>&1 | sed -nE 's/^latency average = ([0-9.]+) ms.*/\1/p'
}
ls_=$(loadrun "$ES_TMP/load.sql")
ss_=$(loadrun "$ES_TMP/select.sql")
if ((SQL_FLAVOUR)); then
	es_psql -d sqlflavour -c "SELECT eventstore.append('10000000-0000-0000-0000-000000010000', 'bulk', 0,
		(SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('sku', md5(i::text), 'qty', i)) ORDER BY i)
		   FROM generate_series(1, 10000) i))" >/dev/null
	lq_=$("$PGBIN/pgbench" -n -M prepared -c 1 -t 40 -f "$ES_TMP/load.sql" sqlflavour 2>&1 | sed -nE 's/^latency average = ([0-9.]+) ms.*/\1/p')
	# Server time per append, both flavours interleaved call by call in one
	# session (so a busy machine slows both alike): the SQL flavour's
	# append() is created once more as bench_sql.append() over the same tables.
	es_psql -c "CREATE SCHEMA bench_sql" >/dev/null
	sed -e 's/^CREATE FUNCTION eventstore\.append(/CREATE FUNCTION bench_sql.append(/' -e '/^REVOKE /,$d' \
		"$ES_ROOT/sql/sql_flavour/append.sql" | es_psql >/dev/null
	cpu=$(es_psql 2>&1 <<SQL
DO \$\$
DECLARE
	b jsonb := (SELECT jsonb_agg(jsonb_build_object('type', $TYPE, 'data', ${DATA//:aid/1}, 'metadata', ${META//:aid/1}) ORDER BY i)
				  FROM generate_series(1, $K) i, LATERAL (SELECT md5(i::text) AS h) x);
	t timestamptz;
	c interval := '0';
	q interval := '0';
BEGIN
	FOR i IN 1..2000 LOOP
		t := clock_timestamp();
		PERFORM eventstore.append(md5('cpu-c-' || i % 500)::uuid, 'cart', NULL, b);
		c := c + (clock_timestamp() - t);
		t := clock_timestamp();
		PERFORM bench_sql.append(md5('cpu-s-' || i % 500)::uuid, 'cart', NULL, b);
		q := q + (clock_timestamp() - t);
	END LOOP;
	RAISE NOTICE 'cpu % % %', round(extract(epoch FROM c) * 1e6 / 2000), round(extract(epoch FROM q) * 1e6 / 2000),
		round((extract(epoch FROM q) / extract(epoch FROM c))::numeric, 2);
END
\$\$;
SQL
)
	read -r cpu_c cpu_q cpu_r < <(sed -nE 's/.*NOTICE:  cpu ([0-9]+) ([0-9]+) ([0-9.]+)$/\1 \2 \3/p' <<<"$cpu")
fi

echo
echo "== append_bench $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(es_psql -c 'SELECT version()' | sed 's/ on x86_64.*//')"
echo "command: TXNS=$TXNS K=$K CLIENTS=$CLIENTS REPEATS=$REPEATS NAGGS=$NAGGS SQL_FLAVOUR=$SQL_FLAVOUR EXPECTED=$EXPECTED bench/append_bench.sh"
printf '%-44s %12s   %s\n' "workload ($CLIENTS clients, $K events/txn, expected $EXPECTED)" "events/s" "runs"
printf '%-44s %12s   %s\n' "hand-written SQL (UPDATE + multi-row INSERT)" "$h" "${HAND[*]}"
printf '%-44s %12s   %s\n' "eventstore.append()" "$a" "${APPEND[*]}"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf 'ratio append / hand-written: %s  (target >= 0.90)\n' "$(ratio "$a" "$h")"
if ((SQL_FLAVOUR)); then
	q=$(printf '%s\n' "${SQLF[@]}" | median)
	printf '%-44s %12s   %s\n' "eventstore.append(), SQL flavour" "$q" "${SQLF[*]}"
	printf 'ratio SQL flavour / C flavour: %s  (target >= 0.80); SQL flavour / hand-written: %s  (target >= 1.00)\n' \
		"$(ratio "$q" "$a")" "$(ratio "$q" "$h")"
fi
echo "rows: $n events via append, $nh by hand"
printf 'load() of a 10,000-event aggregate: %s ms (%s events/s); plain SELECT of the same rows: %s ms\n' \
	"$ls_" "$(awk -v l="$ls_" 'BEGIN { printf "%.0f", 10000 / (l / 1000) }')" "$ss_"
if ((SQL_FLAVOUR)); then
	printf 'load() of a 10,000-event aggregate, SQL flavour: %s ms (%s events/s)\n' \
		"$lq_" "$(awk -v l="$lq_" 'BEGIN { printf "%.0f", 10000 / (l / 1000) }')"
	printf 'server time per %s-event append, interleaved in one session: C %s us, SQL flavour %s us (x%s)\n' \
		"$K" "$cpu_c" "$cpu_q" "$cpu_r"
fi
