#!/usr/bin/env bash
#
# t_envelope_golden.sh - one envelope, two writers: the extension's envelope
# writer (src/envelope.c, through the output plugin) and the relay's DynamoDB
# path (`eventrelay dynamodb`, stdin input) must write byte for byte the same
# envelope for the same events, apart from the "source" object, and both must
# match tests/golden/envelope.ndjson.
#
#   - fixed appends (tests/golden/envelope_appends.json) go through
#     eventstore.append() with fixed event ids and recorded_at, and are decoded
#     with the plugin (pg_logical_slot_get_changes, default options);
#   - tests/golden/envelope_records.py turns the same appends into the
#     DynamoDB stream records of a table holding them (INSERT, then MODIFY with
#     OldImage), which the relay reads from stdin;
#   - compared: field order, compact JSON of data and metadata, numbers as
#     written, string escaping (quotes, backslash, control characters,
#     non-ASCII, U+2028), recorded_at's form; then each path's source object.
#
# The golden file is what the extension writes; UPDATE_GOLDEN=1 rewrites it
# from the extension's output (review the diff before committing it).
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RELAY=$ES_ROOT/relay/eventrelay
GOLDEN=$ES_ROOT/tests/golden
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }
make -s -C "$ES_ROOT/relay" eventrelay >/dev/null
es_install_extension
es_cluster_start
TMP=$ES_TMP

python3 "$GOLDEN/envelope_records.py" "$GOLDEN/envelope_appends.json" "$TMP"

# without_source: drop the trailing "source" object (it holds no nested
# object), leaving the rest of each line byte for byte.
without_source() { sed -E 's/,"source":\{[^{}]*\}\}$/}/'; }

# --- the extension ------------------------------------------------------------
es_psql -c "CREATE EXTENSION eventstore" \
	-c "SELECT 1 FROM pg_create_logical_replication_slot('golden', 'eventstore')" >/dev/null
es_psql -f "$TMP/appends.sql" >/dev/null
es_psql -c "SELECT data FROM pg_logical_slot_get_changes('golden', NULL, NULL)" >"$TMP/pg.ndjson"
es_eq "extension: one envelope per appended event" 6 "$(wc -l <"$TMP/pg.ndjson" | tr -d ' ')"
without_source <"$TMP/pg.ndjson" >"$TMP/pg.nosource"

if [[ ${UPDATE_GOLDEN:-0} == 1 ]]; then
	cp "$TMP/pg.nosource" "$GOLDEN/envelope.ndjson"
	es_log "rewrote $GOLDEN/envelope.ndjson"
fi
if diff -u "$GOLDEN/envelope.ndjson" "$TMP/pg.nosource" >"$TMP/pg.diff"; then
	es_ok "extension: envelopes (without source) match the golden file"
else
	es_not_ok "extension: envelopes (without source) match the golden file"
	cat "$TMP/pg.diff"
fi
ts='"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"'
es_eq "extension: source is database, lsn, xid, commit_time" 6 \
	"$(grep -cE ",\"source\":\\{\"database\":\"postgres\",\"lsn\":\"[0-9A-F]+/[0-9A-F]+\",\"xid\":[0-9]+,\"commit_time\":$ts\\}\\}\$" "$TMP/pg.ndjson")"

# --- the relay's DynamoDB path -------------------------------------------------
if "$RELAY" dynamodb --input=stdin --sink=stdout --aggregate-type=cart \
	<"$TMP/records.json" >"$TMP/ddb.ndjson" 2>"$TMP/ddb.log"; then
	es_ok "relay dynamodb: exits 0"
else
	es_not_ok "relay dynamodb: exits 0"
	cat "$TMP/ddb.log"
fi
without_source <"$TMP/ddb.ndjson" >"$TMP/ddb.nosource"
if diff -u "$GOLDEN/envelope.ndjson" "$TMP/ddb.nosource" >"$TMP/ddb.diff"; then
	es_ok "relay dynamodb: envelopes (without source) match the golden file"
else
	es_not_ok "relay dynamodb: envelopes (without source) match the golden file"
	cat "$TMP/ddb.diff"
fi
es_eq "relay dynamodb: source is kind, table, sequence_number, event_name, event_source_arn" \
	"INSERT MODIFY MODIFY INSERT INSERT INSERT" \
	"$(sed -nE 's/.*,"source":\{"kind":"dynamodb","table":"carts","sequence_number":"41[0-9]{20}","event_name":"([A-Z]+)","event_source_arn":"arn:aws:dynamodb:[^"]*"\}\}$/\1/p' \
		"$TMP/ddb.ndjson" | paste -sd' ' -)"

# The two writers, line by line (what a consumer of both streams sees).
es_check "extension and relay write the same envelopes apart from source" \
	cmp -s "$TMP/pg.nosource" "$TMP/ddb.nosource"
es_done
