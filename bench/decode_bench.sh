#!/usr/bin/env bash
#
# decode_bench.sh - the eventstore output plugin decoded side by side with
# test_decoding, wal2json (format 1 and 2) and pgoutput over one workload
# appended through eventstore.append(), in the same run (the shared baseline
# kit's decode_baseline.sh does the measuring).  Then one huge transaction
# (1,500,000 events) against a 1,000-event one for the walsender's peak memory.
#
#   bench/decode_bench.sh [throughput|bigtxn|all]    (default all)
# Environment passes through to decode_baseline.sh (N_EVENTS, REPEATS, ...).
# DECODE_BASELINE=FILE: the baseline script (default: the shared one,
# ../shared/bench/decode_baseline.sh, when it is beside the checkout, else
# bench/vendor/decode_baseline.sh); bench/vendor/decode_baseline.patch is
# applied to a private copy of it (see bench/vendor/README.md).
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tests/lib.sh"
bash "$ROOT/scripts/deps.sh" pg bench >/dev/null
es_install_extension

baseline=${DECODE_BASELINE:-}
if [[ -z $baseline ]]; then
	baseline=$ROOT/bench/vendor/decode_baseline.sh
	[[ -f $ROOT/../shared/bench/decode_baseline.sh ]] && baseline=$(cd "$ROOT/../shared/bench" && pwd)/decode_baseline.sh
fi
[[ -f $baseline ]] || es_die "baseline script $baseline not found"
BASELINE_DIR=$(es_tmpdir)/baseline
mkdir -p "$BASELINE_DIR"
cp "$baseline" "$BASELINE_DIR/decode_baseline.sh"
patch -s -d "$BASELINE_DIR" -p1 <"$ROOT/bench/vendor/decode_baseline.patch" ||
	es_die "bench/vendor/decode_baseline.patch does not apply to $baseline; update the patch (bench/vendor/README.md) or set DECODE_BASELINE=$ROOT/bench/vendor/decode_baseline.sh"
es_log "baseline: $baseline + bench/vendor/decode_baseline.patch"

conf=""
if es_pg_has_setting output_plugin_libraries; then
	conf="output_plugin_libraries = 'pgoutput, test_decoding, wal2json, eventstore'"
fi
common=(
	EXTRA_PLUGINS=eventstore
	EXTRA_SETUP_SQL="CREATE EXTENSION eventstore;"
	PGBENCH_SCRIPT="$ROOT/bench/append_eventstore.pgbench"
	EVENTS_TABLE=eventstore.events
	WAL2JSON_TABLES=eventstore.events
	EXTRA_PG_CONF="$conf"
	RESULTS_DIR="$ROOT/bench/results"
)

what=${1:-all}
if [[ $what == throughput || $what == all ]]; then
	env "${common[@]}" bash "$BASELINE_DIR/decode_baseline.sh"
fi
# BIG_WORK_MEM: logical_decoding_work_mem for the big-transaction runs.  The
# reorder buffer (PostgreSQL's, before any plugin sees a change) keeps up to
# this much per walsender before spilling; a smaller value isolates what the
# plugin itself holds.
if [[ -n ${BIG_WORK_MEM:-} ]]; then
	conf+=$'\n'"logical_decoding_work_mem = $BIG_WORK_MEM"
	common=("${common[@]/#EXTRA_PG_CONF=*/EXTRA_PG_CONF=$conf}")
fi
if [[ $what == bigtxn || $what == all ]]; then
	# The same 1,500,000 events as 1,500 transactions of 1,000, then as one
	# transaction; compare the walsender's peak memory (wsn_MB).
	env "${common[@]}" N_EVENTS=1500000 TXN_SIZE=1000 CLIENTS=1 REPEATS=1 \
		SKIP_DECODERS="test_decoding wal2json_v1 wal2json_v2 pgoutput" bash "$BASELINE_DIR/decode_baseline.sh"
	env "${common[@]}" N_EVENTS=1500000 TXN_SIZE=1500000 CLIENTS=1 REPEATS=1 \
		SKIP_DECODERS="test_decoding wal2json_v1 wal2json_v2 pgoutput" bash "$BASELINE_DIR/decode_baseline.sh"
fi
