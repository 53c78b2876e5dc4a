#!/usr/bin/env bash
#
# t_pgoutput_golden.sh - one WAL, two decoders, the same bytes: the plugin
# scenarios (escaping in every text field, non-ASCII, every JSON type, big
# numbers, savepoints rolled back and released, an aborted transaction,
# other tables and UPDATE/DELETE/TRUNCATE, two interleaved transactions, a
# 300 KB TOASTed event, a 3000-event transaction) are written once and read
#   1. by pg_recvlogical --plugin=eventstore (the reference),
#   2. by eventrelay --decoder eventstore --sink stdout,
#   3. by eventrelay --decoder pgoutput --sink stdout (a publication),
# and 2 and 3 must equal 1 line by line, byte for byte.  The server runs
# with DateStyle 'SQL, DMY' and TimeZone America/New_York, which the
# pgoutput decoder must not depend on.  Also: the include-* options and the
# filters give the same bytes on both decoders; a transaction replicated in
# from elsewhere (a replication origin) is not relayed by pgoutput unless
# --origin any.
#
# matrix: every PostgreSQL version
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RELAY=$ES_ROOT/relay/eventrelay
make -s -C "$ES_ROOT/relay" eventrelay >/dev/null
es_install_extension
es_cluster_start "datestyle = 'SQL, DMY'" "timezone = 'America/New_York'"
TMP=$ES_TMP
DSN="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=$PGUSER"

es_psql -c "CREATE EXTENSION eventstore" \
	-c "CREATE PUBLICATION eventstore_events FOR TABLE eventstore.events WITH (publish = 'insert')" \
	-c "CREATE TABLE public.other (id int PRIMARY KEY, v text)" >/dev/null
for s in recv plug pgo pgo_opts plug_opts pgo_origin; do
	plugin=eventstore
	[[ $s == pgo* ]] && plugin=pgoutput
	es_psql -c "SELECT 1 FROM pg_create_logical_replication_slot('$s', '$plugin')" >/dev/null
done

# --- the workload ------------------------------------------------------------------
es_psql >/dev/null <<'SQL'
SELECT eventstore.append('f0000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened", "data": {"customer": "ann"}, "id": "f1000000-0000-0000-0000-000000000001"},
	  {"type": "ItemAdded", "data": {"sku": "A-1", "qty": 2, "price": 9.90}, "metadata": {"user": "ann"}}]');
BEGIN;
SELECT eventstore.append('f0000000-0000-0000-0000-000000000002', 'cart', 0, '[{"type": "Aborted"}]');
ROLLBACK;
BEGIN;
SELECT eventstore.append('f0000000-0000-0000-0000-000000000003', 'cart', 0, '[{"type": "Kept1"}]');
SAVEPOINT sp;
SELECT eventstore.append('f0000000-0000-0000-0000-000000000003', 'cart', 1, '[{"type": "RolledBack"}]');
ROLLBACK TO SAVEPOINT sp;
SELECT eventstore.append('f0000000-0000-0000-0000-000000000003', 'cart', 1, '[{"type": "Kept2"}]');
SAVEPOINT sp2;
SELECT eventstore.append('f0000000-0000-0000-0000-0000000000d1', 'order', 0, '[{"type": "Released"}]');
RELEASE SAVEPOINT sp2;
COMMIT;
INSERT INTO public.other VALUES (1, 'a'), (2, 'b');
UPDATE public.other SET v = 'c';
DELETE FROM public.other WHERE id = 1;
TRUNCATE public.other;
UPDATE eventstore.events SET metadata = '{"fixed": true}' WHERE aggregate_id = 'f0000000-0000-0000-0000-000000000003' AND version = 1;
BEGIN;
INSERT INTO public.other VALUES (5, 'x');
SELECT eventstore.append('f0000000-0000-0000-0000-000000000004', 'cart', 0, '[{"type": "Mixed"}]');
INSERT INTO public.other VALUES (6, 'y');
COMMIT;
SELECT eventstore.append('f0000000-0000-0000-0000-000000000005', E'ca"rt\\\n',
	0, jsonb_build_array(jsonb_build_object(
		'type', E'Q"uo\\te\t\u0001 \u007f',
		'data', jsonb_build_object(E'k"\n', E'tab\there "q" back\\slash \u001f', 'emoji', '😀 ü ß 日本',
			'ctl', E'\b\f\r', 'sep', E'a\u2028b\u2029c', 'slash', '</script>', 'colon', 'a: b, c'),
		'metadata', jsonb_build_object('s', '</script>', 'e', '{}'))));
SELECT eventstore.append('f0000000-0000-0000-0000-000000000006', 'n', 0,
	'[{"type": "N", "data": {"big": 123456789012345678901234567890.123456789, "neg": -0.0001, "e": 1e3,
	   "small": 1E-3, "zero": 0, "t": true, "f": false, "nul": null, "s": "", "arr": [[], {}, [1, [2]], "x"],
	   "obj": {"a": {"b": {"c": [null]}}}}},
	  {"type": "Scalar", "data": "just a string"}, {"type": "Num", "data": 42.50},
	  {"type": "Arr", "data": [1, "two", null]}, {"type": "Bool", "data": false}, {"type": "Null", "data": null}]');
SELECT eventstore.append('f0000000-0000-0000-0000-000000000007', 'big', 0,
	jsonb_build_array(jsonb_build_object('type', 'Big', 'data',
		jsonb_build_object('blob', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 9600) i)))));
BEGIN;
SELECT count(eventstore.append('f0000000-0000-0000-0000-000000000008', 'many', NULL,
	jsonb_build_array(jsonb_build_object('type', 'Tick', 'data', i)))) FROM generate_series(1, 3000) i;
COMMIT;
SQL
es_eq "the big event is over 300 KB and stored out of line (TOAST)" t \
	"$(es_psql -c "SELECT length(data::text) > 300000 AND (SELECT pg_relation_size(reltoastrelid) > 100000 FROM pg_class WHERE oid = 'eventstore.events'::regclass) FROM eventstore.events WHERE aggregate_id = 'f0000000-0000-0000-0000-000000000007'")"

# Interleaved: A begins first and commits last; B's events come first.
mkfifo "$TMP/a.in"
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 <"$TMP/a.in" >/dev/null &
A_PID=$!
exec 7>"$TMP/a.in"
echo "BEGIN; SELECT eventstore.append('f0000000-0000-0000-0000-0000000000a1', 'cart', 0, '[{\"type\": \"A1\"}]');" >&7
sleep 0.5
es_psql -c "SELECT eventstore.append('f0000000-0000-0000-0000-0000000000b1', 'cart', 0, '[{\"type\": \"B1\"}]')" >/dev/null
echo "SELECT eventstore.append('f0000000-0000-0000-0000-0000000000a1', 'cart', 1, '[{\"type\": \"A2\"}]'); COMMIT;" >&7
exec 7>&-
wait "$A_PID"

# A transaction replayed from another server: its changes carry a replication origin.
es_psql >/dev/null <<'SQL'
SELECT pg_replication_origin_create('elsewhere');
SELECT pg_replication_origin_session_setup('elsewhere');
SELECT eventstore.append('f0000000-0000-0000-0000-0000000000c1', 'cart', 0, '[{"type": "FromElsewhere"}]');
SQL
END=$(es_psql -c "SELECT pg_current_wal_lsn()")
es_psql -c "SELECT pg_switch_wal()" >/dev/null

# --- decode ----------------------------------------------------------------------------
"$PGBIN/pg_recvlogical" -d "$DSN" --slot recv --start --endpos "$END" --no-loop -f "$TMP/recv.ndjson" 2>"$TMP/recv.log"
relay() {
	local out=$1
	shift
	if "$RELAY" --dbname "$DSN" --sink stdout --end-lsn "$END" --status-interval 1 \
		--dead-letter "$TMP/dl.ndjson" "$@" >"$TMP/$out.ndjson" 2>"$TMP/$out.log"; then
		return 0
	fi
	echo "# relay $* failed:"
	tail -n 5 "$TMP/$out.log"
	return 1
}
es_check "relay --decoder eventstore reaches --end-lsn" relay plug --slot plug
es_check "relay --decoder pgoutput reaches --end-lsn" relay pgo --slot pgo --decoder pgoutput

n=$(es_psql -c "SELECT count(*) FROM eventstore.events")
# the plugin has no origin filter: it emits the replicated event too, pgoutput leaves it out
es_eq "pg_recvlogical: one line per event" "$n" "$(wc -l <"$TMP/recv.ndjson" | tr -d ' ')"
grep -v '"FromElsewhere"' "$TMP/recv.ndjson" >"$TMP/recv_local.ndjson"
es_check "relay --decoder eventstore: identical to pg_recvlogical" cmp "$TMP/recv.ndjson" "$TMP/plug.ndjson"
if cmp -s "$TMP/recv_local.ndjson" "$TMP/pgo.ndjson"; then
	es_ok "relay --decoder pgoutput: identical to pg_recvlogical, line by line ($((n - 1)) events)"
else
	es_not_ok "relay --decoder pgoutput: identical to pg_recvlogical, line by line"
	diff <(cut -c1-400 "$TMP/recv_local.ndjson") <(cut -c1-400 "$TMP/pgo.ndjson") | head -n 20
fi
es_eq "interleaved: B before A" "B1 A1 A2" \
	"$(grep -oE '"type":"(A1|A2|B1)"' "$TMP/pgo.ndjson" | cut -d'"' -f4 | paste -sd' ' -)"
es_eq "nothing rolled back, nothing from UPDATE" 0 \
	"$(grep -cE '"(Aborted|RolledBack)"|"fixed"' "$TMP/pgo.ndjson" || true)"

# --- options and filters on both decoders -------------------------------------------------
opts=(--aggregate-types 'cart, order' --event-types 'Kept1,Released,Mixed,FromElsewhere,A2'
	--plugin-option include-xids=off --plugin-option include-database=off)
es_check "relay --decoder eventstore with filters and include-* options" relay plug_opts --slot plug_opts "${opts[@]}"
es_check "relay --decoder pgoutput with filters and include-* options" relay pgo_opts --slot pgo_opts \
	--decoder pgoutput --origin any "${opts[@]}"
es_eq "filters: the events of the listed types and aggregate types" "Kept1 Released Mixed A2 FromElsewhere" \
	"$(grep -oE '"type":"[^"]*"' "$TMP/pgo_opts.ndjson" | cut -d'"' -f4 | paste -sd' ' -)"
es_check "filters and include-* options: both decoders write the same bytes (--origin any)" \
	cmp "$TMP/plug_opts.ndjson" "$TMP/pgo_opts.ndjson"
es_check "include-xids=off, include-database=off: source is lsn and commit_time" \
	grep -qE ',"source":\{"lsn":"[0-9A-F]+/[0-9A-F]+","commit_time":"[0-9-]+T[0-9:.]+Z"\}\}$' "$TMP/pgo_opts.ndjson"

# --- configuration errors: exit 2, one line, before any slot is made -----------------------
cfg_error() { # description, expected text, SQL to run first
	local rc=0
	es_psql -c "$3" >/dev/null
	timeout 30 "$RELAY" --dbname "$DSN" --slot cfg_err --create-slot --decoder pgoutput --sink stdout \
		>/dev/null 2>"$TMP/cfg.log" || rc=$?
	if [[ $rc == 2 && $(wc -l <"$TMP/cfg.log") == 1 ]] && grep -q "$2" "$TMP/cfg.log"; then
		es_ok "$1: exit 2, one line"
	else
		es_not_ok "$1: exit 2, one line (exit $rc)"
		cat "$TMP/cfg.log"
	fi
}
cfg_error "a missing publication" 'publication "eventstore_events" does not exist.*CREATE PUBLICATION' \
	"ALTER PUBLICATION eventstore_events RENAME TO was_events"
cfg_error "a publication without eventstore.events" "does not contain table eventstore.events" \
	"CREATE PUBLICATION eventstore_events FOR TABLE public.other"
cfg_error "a publication of updates and deletes only" "does not publish inserts" \
	"DROP PUBLICATION eventstore_events; CREATE PUBLICATION eventstore_events FOR TABLE eventstore.events WITH (publish = 'update, delete')"
es_eq "no slot was created by the failed starts" 0 \
	"$(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'cfg_err'")"
es_psql -c "DROP PUBLICATION eventstore_events" -c "ALTER PUBLICATION was_events RENAME TO eventstore_events" >/dev/null
rc=0
timeout 30 "$RELAY" --dbname "$DSN" --slot plug --decoder pgoutput --sink stdout >/dev/null 2>"$TMP/cfg.log" || rc=$?
es_eq "a slot of the eventstore plugin read with --decoder pgoutput: exit 3" 3 "$rc"
# --create-slot makes a pgoutput slot
"$RELAY" --dbname "$DSN" --slot created --create-slot --decoder pgoutput --sink stdout \
	--end-lsn "$(es_psql -c "SELECT pg_current_wal_lsn()")" >/dev/null 2>"$TMP/create.log" || true
es_eq "--create-slot with --decoder pgoutput creates a pgoutput slot" pgoutput \
	"$(es_psql -c "SELECT plugin FROM pg_replication_slots WHERE slot_name = 'created'")"

# --- the slots advanced to the end ----------------------------------------------------------
es_eq "the pgoutput slot confirmed the end" t \
	"$(es_psql -c "SELECT confirmed_flush_lsn >= '$END' FROM pg_replication_slots WHERE slot_name = 'pgo'")"
es_done
