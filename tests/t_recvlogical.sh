#!/usr/bin/env bash
#
# t_recvlogical.sh - the real pg_recvlogical against the eventstore plugin:
# what it prints for appended events (and only for them), the options on the
# command line, a bad option, and that the slot's confirmed_flush_lsn keeps
# advancing while only other tables are written (no WAL pinned by a quiet
# event stream).
#
# matrix: every PostgreSQL version
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

es_install_extension
es_cluster_start
OUT=$ES_TMP/recv.out
RECV_PID=""
jqt() { jq -e "$@" >/dev/null; }
stop_recv() {
	if [[ -n $RECV_PID ]]; then
		kill "$RECV_PID" 2>/dev/null || true
		wait "$RECV_PID" 2>/dev/null || true
	fi
	RECV_PID=""
}
es_on_exit stop_recv

es_psql -c "CREATE EXTENSION eventstore" -c "CREATE TABLE public.noise (id serial PRIMARY KEY, v text)"
"$PGBIN/pg_recvlogical" -d postgres --slot es_recv --create-slot --plugin eventstore
es_ok "pg_recvlogical --create-slot --plugin=eventstore"

# -s 1: status every second, -F 1: "fsync" (and so confirm) every second.
"$PGBIN/pg_recvlogical" -d postgres --slot es_recv --start -f "$OUT" -s 1 -F 1 \
	-o include-transaction=off -o include-xids=on 2>"$ES_TMP/recv.err" &
RECV_PID=$!

# Three carts from three concurrent clients, plus noise on another table.
for c in 1 2 3; do
	(
		id=$(printf 'c%07d-0000-0000-0000-000000000000' "$c")
		es_psql -c "SELECT eventstore.append('$id', 'cart', 0, '[{\"type\": \"CartOpened\", \"data\": {\"client\": $c}}]')" >/dev/null
		for i in 1 2 3 4; do
			es_psql -v id="$id" -v i="$i" -v sku="S-$i" -v note='quote " and \ and é' <<<"
				SELECT eventstore.append(:'id', 'cart', :i, jsonb_build_array(jsonb_build_object(
					'type', 'ItemAdded', 'data', jsonb_build_object('sku', :'sku', 'note', :'note'))));" >/dev/null
			es_psql \
				-c "INSERT INTO public.noise (v) VALUES ('x')" >/dev/null
		done
	) &
done
wait %2 %3 %4 2>/dev/null || true
wait_lines() { # wait_lines N FILE: until FILE has N lines (10 s)
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -f $2 && $(wc -l <"$2") -ge $1 ]] && return 0
		sleep 0.1
	done
	return 1
}
es_check "15 events arrive (3 carts x 5 events)" wait_lines 15 "$OUT"
sleep 0.5
es_eq "exactly 15 lines, nothing for the noise table" 15 "$(wc -l <"$OUT")"
es_check "every line is one valid JSON object" jqt -s 'length == 15 and all(type == "object")' "$OUT"
es_check "envelope fields present and typed" jqt -s 'all(
	(.aggregate_id | test("^[0-9a-f-]{36}$")) and .aggregate_type == "cart" and (.version | type) == "number"
	and (.event_id | test("^[0-9a-f-]{36}$")) and (.type | type) == "string" and (.data | type) == "object"
	and .metadata == {} and (.recorded_at | test("Z$"))
	and .source.database == "postgres" and (.source.lsn | test("^[0-9A-F]+/[0-9A-F]+$"))
	and (.source.xid | type) == "number" and (.source.commit_time | test("Z$")))' "$OUT"
es_check "versions 1..5 in order per aggregate" jqt -s \
	'group_by(.aggregate_id) | length == 3 and all(map(.version) == [1,2,3,4,5])' "$OUT"
es_check "escaped strings round-trip" jqt -s \
	'[.[] | select(.type == "ItemAdded") | .data.note] | all(. == "quote \" and \\ and é")' "$OUT"
python3 - "$OUT" <<'PY' && es_ok "source.lsn is non-decreasing line by line" || es_not_ok "source.lsn is non-decreasing line by line"
import json, sys
def lsn(s):
    hi, lo = s.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)
prev = 0
for line in open(sys.argv[1]):
    cur = lsn(json.loads(line)["source"]["lsn"])
    assert cur >= prev, (prev, cur)
    prev = cur
PY

# Only other tables written from now on: the slot must still advance.
sleep 2
before=$(es_psql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'es_recv'")
for i in $(seq 1 30); do es_psql -c "INSERT INTO public.noise (v) VALUES ('only noise $i')"; done
target=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
advanced=0
for ((i = 0; i < 150; i++)); do
	if [[ $(es_psql -c "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'es_recv'") == t ]]; then
		advanced=1
		break
	fi
	sleep 0.1
done
after=$(es_psql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'es_recv'")
es_eq "confirmed_flush_lsn advanced past other-table writes ($before -> $after, target $target)" 1 "$advanced"
es_eq "still 15 lines after 30 noise transactions" 15 "$(wc -l <"$OUT")"
stop_recv

# Options on the command line: transaction markers, filters.
es_psql -c "SELECT eventstore.append('d0000000-0000-0000-0000-000000000001', 'order', 0, '[{\"type\": \"OrderPlaced\"}, {\"type\": \"OrderPaid\"}]')" >/dev/null
es_psql -c "SELECT eventstore.append('d0000000-0000-0000-0000-000000000002', 'cart', 0, '[{\"type\": \"CartOpened\"}]')" >/dev/null
end=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
"$PGBIN/pg_recvlogical" -d postgres --slot es_recv --start -f "$ES_TMP/opts.out" --endpos "$end" --no-loop \
	-o include-transaction=on -o aggregate-types=order -o include-source=off
es_eq "include-transaction + aggregate-types: begin, 2 events, commit" \
	"begin OrderPlaced OrderPaid commit" "$(jq -r '.kind // .type' "$ES_TMP/opts.out" | tr '\n' ' ' | sed 's/ $//')"
es_check "commit marker carries end_lsn and event count" jqt -s \
	'.[-1].kind == "commit" and .[-1].events == 2 and (.[-1].end_lsn | test("/"))' "$ES_TMP/opts.out"
es_check "include-source=off drops source" jqt -s '[.[] | select(.kind == null)] | all(has("source") | not)' "$ES_TMP/opts.out"

# A bad option is an error that names it.
if "$PGBIN/pg_recvlogical" -d postgres --slot es_recv --start -f /dev/null --no-loop \
	-o include-xids=perhaps 2>"$ES_TMP/bad.err"; then
	es_not_ok "a bad option value makes pg_recvlogical fail"
else
	es_check "a bad option value is named in the error" grep -q 'could not parse value "perhaps" for parameter "include-xids"' "$ES_TMP/bad.err"
fi
if "$PGBIN/pg_recvlogical" -d postgres --slot es_recv --start -f /dev/null --no-loop \
	-o frobnicate=1 2>"$ES_TMP/bad2.err"; then
	es_not_ok "an unknown option makes pg_recvlogical fail"
else
	es_check "an unknown option is named in the error" grep -q 'option "frobnicate" = "1" is unknown' "$ES_TMP/bad2.err"
fi

"$PGBIN/pg_recvlogical" -d postgres --slot es_recv --drop-slot
es_done
