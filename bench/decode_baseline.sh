#!/usr/bin/env bash
#
# decode_baseline.sh - (copied from the project's shared bench kit, with a
# SKIP_DECODERS switch added) side-by-side logical-decoding baseline for an
# event-store append workload, on a throwaway PostgreSQL cluster.
#
# Why: the event store's own output plugin will emit only appended events.
# To judge it we need anchors measured on the same machine, in the same run,
# over the same WAL: how fast PostgreSQL's existing output plugins
# (test_decoding, wal2json format-version 1 and 2, pgoutput) decode that
# workload, and how fast the workload can be appended in the first place.
#
# One run does, in order:
#   1. initdb a cluster in a private temp dir under $WORK_ROOT.  The server
#      runs as $PG_OS_USER when the script is started as root (PostgreSQL
#      refuses root), listens on a unix socket in that dir only, and is
#      durable: fsync=on, synchronous_commit=on.  wal_level=logical.
#   2. (a) Append ceiling: ONE "INSERT ... SELECT" of N_EVENTS events, in its
#      own database and before any slot exists, so that its WAL lies outside
#      the decoded range.  (Slots do not change what is WAL-logged at
#      wal_level=logical, so the number is the same as with slots present.)
#   3. Creates, in database "bench", a publication on the events table and one
#      logical slot per decoder - BEFORE the decoded workload.
#   4. (b) The decoded workload: pgbench, CLIENTS clients, each transaction is
#      what an event store does per append: BEGIN; UPDATE the aggregate's
#      version; INSERT TXN_SIZE events; COMMIT.
#   5. Decodes exactly that WAL range with pg_recvlogical --endpos for every
#      decoder, one after another, REPEATS times (each repeat decodes a fresh
#      copy of the pristine slot, the order rotates between repeats), and
#      verifies every decoder emitted every event.  The consumer is measured
#      with /usr/bin/time -v; the walsender (where the plugin runs) is sampled
#      from /proc for CPU and memory; spill figures come from
#      pg_stat_replication_slots.
#   6. Prints a compact table and writes it, plus the raw per-run TSV, to
#      $RESULTS_DIR.
# The cluster is stopped and the temp dir removed on exit, failures included.
#
# The project's own plugin is compared by naming it in EXTRA_PLUGINS; see the
# block marked "EXTRA PLUGINS" below and --help.

set -Eeuo pipefail

SCRIPT_START=$EPOCHREALTIME
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"

usage() {
	cat <<'EOF'
Usage: decode_baseline.sh [--help]

Measures append throughput and logical-decoding throughput of test_decoding,
wal2json (format 1 and 2) and pgoutput over one event-append workload, on a
throwaway cluster.  Configured with environment variables:

Workload
  N_EVENTS=200000      events appended by each workload
  TXN_SIZE=10          events per transaction of the decoded pgbench workload
  N_AGGREGATES=20000   aggregates (streams) the events are spread over
  CLIENTS=2            pgbench clients; N_EVENTS must be a multiple of
                       TXN_SIZE*CLIENTS
  PGBENCH_SEED=42      pgbench --random-seed (which aggregate each txn hits)

Measurement
  REPEATS=5            decodes per decoder; the median run is reported
  RECV_FSYNC_INTERVAL=0  pg_recvlogical -F; 0 = never fsync the output file
                       (we measure decoding, not the consumer's disk)
  SAMPLE_INTERVAL=0.1  seconds between walsender CPU/memory samples
  WAL2JSON_TABLES=public.events  wal2json add-tables filter, so it emits what
                       pgoutput's publication emits ("" = every table)

Environment
  PGBIN=/usr/lib/postgresql/15/bin
  WORK_ROOT=/tmp/pgbench-work  scratch; a private run dir is made inside
  RESULTS_DIR=<script dir>/results
  PG_OS_USER=postgres  OS user that runs the server when started as root
  PORT=54329           port number (only names the socket; no TCP listener)
  EXTRA_PG_CONF=       extra postgresql.conf lines (newline separated)
  KEEP_WORKDIR=0       1 = keep the cluster and decoder output files

Extra plugins, decoded side by side with the built-in ones
  EXTRA_PLUGINS="eventstore"      space-separated output plugin names
  EXTRA_OPTS_<name>="-o k=v ..."  pg_recvlogical options for that plugin
  EXTRA_COUNT_<name>=REGEX        grep -E pattern; matching output lines count
                                  as events (default: every line is one event)
  EXTRA_LIBDIR=DIR                appended to dynamic_library_path, to load a
                                  plugin that is built but not installed
  EXTRA_SETUP_SQL="CREATE EXTENSION ..."  run in the bench db before the slots
  PGBENCH_SCRIPT=FILE             replaces the built-in per-transaction append
                                  (variables: :naggs, :k); must append :k events
  EVENTS_TABLE=public.events      schema.table whose inserts count as events
  SKIP_DECODERS="wal2json_v1"     decoders to leave out

Examples
  ./decode_baseline.sh                                   # the baseline
  N_EVENTS=20000 N_AGGREGATES=2000 REPEATS=1 ./decode_baseline.sh   # smoke run
  TXN_SIZE=200000 CLIENTS=1 ./decode_baseline.sh         # one huge transaction
  EXTRA_PLUGINS=eventstore EXTRA_LIBDIR=$PWD/build ./decode_baseline.sh
EOF
}

# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------
N_EVENTS=${N_EVENTS:-200000}
TXN_SIZE=${TXN_SIZE:-10}
N_AGGREGATES=${N_AGGREGATES:-20000}
CLIENTS=${CLIENTS:-2}
PGBENCH_SEED=${PGBENCH_SEED:-42}
REPEATS=${REPEATS:-5}
RECV_FSYNC_INTERVAL=${RECV_FSYNC_INTERVAL:-0}
SAMPLE_INTERVAL=${SAMPLE_INTERVAL:-0.1}
WAL2JSON_TABLES=${WAL2JSON_TABLES-public.events}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
WORK_ROOT=${WORK_ROOT:-/tmp/pgbench-work}
RESULTS_DIR=${RESULTS_DIR:-$SCRIPT_DIR/results}
PG_OS_USER=${PG_OS_USER:-postgres}
PORT=${PORT:-54329}
EXTRA_PG_CONF=${EXTRA_PG_CONF:-}
KEEP_WORKDIR=${KEEP_WORKDIR:-0}
EXTRA_PLUGINS=${EXTRA_PLUGINS:-}
EXTRA_LIBDIR=${EXTRA_LIBDIR:-}
EXTRA_SETUP_SQL=${EXTRA_SETUP_SQL:-}
PGBENCH_SCRIPT=${PGBENCH_SCRIPT:-}
EVENTS_TABLE=${EVENTS_TABLE:-public.events}

PUBLICATION=bench_events
MAX_SLOTS=10 # max_replication_slots; one more than the decoders for the copy

# Run state, filled in as we go (the cleanup trap reads some of it).
RUN_DIR=""
DATA_DIR=""
RECV_PID=""
SAMPLER_PID=""

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# Float arithmetic without forking bc: calc "expr".
calc() { awk "BEGIN { printf \"%.6f\", $1 }" </dev/null; }
fmt() { awk -v x="$2" "BEGIN { printf \"$1\", x }" </dev/null; }

# Run a server-side program as the cluster owner (PostgreSQL refuses root).
as_pg() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u "$PG_OS_USER" -- "$@"
	else
		"$@"
	fi
}

# sql DB "statement": run one statement, print unaligned tuples.
sql() {
	"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "${CONN[@]}" -d "$1" -c "$2"
}

# sql_script DB < file: run a multi-statement script.
sql_script() {
	"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "${CONN[@]}" -d "$1" -f -
}

# cpu_counters: "total steal" jiffies of all CPUs, from /proc/stat.
cpu_counters() {
	local -a c
	read -r -a c </proc/stat
	echo "$((c[1] + c[2] + c[3] + c[4] + c[5] + c[6] + c[7] + c[8])) ${c[8]}"
}

require_uint() {
	if [[ ! ${!1} =~ ^[0-9]+$ ]] || ((10#${!1} == 0)); then
		die "$1 must be a positive integer (got '${!1}')"
	fi
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM ERR
	set +e
	cd /
	# Only what this script started: the sampler and the consumer (GNU time
	# and its pg_recvlogical child), by pid.
	if [[ -n $SAMPLER_PID ]]; then kill "$SAMPLER_PID" 2>/dev/null; fi
	if [[ -n $RECV_PID ]]; then
		pkill -TERM -P "$RECV_PID" 2>/dev/null
		kill "$RECV_PID" 2>/dev/null
	fi
	if [[ -n $DATA_DIR && -f $DATA_DIR/postmaster.pid ]]; then
		if ((rc != 0)) && [[ -f $RUN_DIR/server.log ]]; then
			log "last lines of the server log:"
			tail -n 20 "$RUN_DIR/server.log" >&2
		fi
		as_pg "$PGBIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			as_pg "$PGBIN/pg_ctl" -D "$DATA_DIR" -m immediate -w stop >/dev/null 2>&1
	fi
	if [[ -n $RUN_DIR && -d $RUN_DIR ]]; then
		if [[ $KEEP_WORKDIR == 1 ]]; then
			log "kept $RUN_DIR"
		else
			rm -rf "$RUN_DIR"
		fi
	fi
	exit "$rc"
}

# ---------------------------------------------------------------------------
# Decoders.  Each has a label, the output plugin, its pg_recvlogical options
# and the function that counts the events in its output file.
# ---------------------------------------------------------------------------
declare -a VARIANTS=()
declare -A V_PLUGIN=() V_OPTS=() V_COUNT=() V_REGEX=() V_SLOT=()

add_variant() { # label plugin "recvlogical options" counter [regex]
	VARIANTS+=("$1")
	V_PLUGIN[$1]=$2
	V_OPTS[$1]=$3
	V_COUNT[$1]=$4
	V_REGEX[$1]=${5-}
	V_SLOT[$1]="bl_${1,,}"
}

define_variants() {
	local w2j_filter=""
	[[ -n $WAL2JSON_TABLES ]] && w2j_filter="-o add-tables=$WAL2JSON_TABLES"

	# skip-empty-xacts: transactions without row changes (ANALYZE, the end
	# marker) would otherwise print BEGIN/COMMIT pairs.
	add_variant test_decoding test_decoding "-o skip-empty-xacts=1" count_test_decoding
	# Format 1 builds the whole transaction as one JSON document in memory.
	add_variant wal2json_v1 wal2json "-o format-version=1 $w2j_filter" count_wal2json_v1
	# Format 2 emits one JSON object per change.
	add_variant wal2json_v2 wal2json "-o format-version=2 $w2j_filter" count_wal2json_v2
	# The built-in logical replication protocol, binary, filtered by publication.
	add_variant pgoutput pgoutput "-o proto_version=1 -o publication_names=$PUBLICATION" count_pgoutput

	# >>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>> EXTRA PLUGINS <<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<
	# The project's own plugin (and any other) is added here, e.g.
	#   EXTRA_PLUGINS="eventstore" \
	#   EXTRA_OPTS_eventstore="-o some-option=value" \
	#   EXTRA_COUNT_eventstore='^\{' \
	#   EXTRA_LIBDIR=/path/to/build ./decode_baseline.sh
	# Its slot is created with the others before the workload, it is decoded in
	# the same rotation and reported in the same table.  By default every
	# output line counts as one event (the eventstore plugin emits one JSON
	# object per event); EXTRA_COUNT_<name> narrows that to matching lines.
	local p opts_var count_var
	for p in $EXTRA_PLUGINS; do
		[[ $p =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
			die "EXTRA_PLUGINS: '$p' is not a plain plugin name"
		[[ -z ${V_PLUGIN[$p]+x} ]] || die "EXTRA_PLUGINS: '$p' is already measured"
		opts_var=EXTRA_OPTS_$p
		count_var=EXTRA_COUNT_$p
		add_variant "$p" "$p" "${!opts_var:-}" count_regex "${!count_var:-}"
	done
	# >>>>>>>>>>>>>>>>>>>>>>>>>>>>>> END EXTRA PLUGINS <<<<<<<<<<<<<<<<<<<<<<<<<<<<<

	# SKIP_DECODERS="wal2json_v1 ...": leave decoders out (e.g. wal2json
	# format 1, which runs out of memory on a huge transaction).
	if [[ -n ${SKIP_DECODERS:-} ]]; then
		local -a kept=()
		for p in "${VARIANTS[@]}"; do
			[[ " $SKIP_DECODERS " == *" $p "* ]] || kept+=("$p")
		done
		VARIANTS=("${kept[@]}")
	fi

	((${#VARIANTS[@]} < MAX_SLOTS)) ||
		die "too many decoders (${#VARIANTS[@]}); at most $((MAX_SLOTS - 1)) fit in max_replication_slots=$MAX_SLOTS"
}

# Counters: print the number of $EVENTS_TABLE inserts found in output file $1.
count_test_decoding() {
	grep -c -- "^table ${EVENTS_TABLE//./\\.}: INSERT:" "$1" || true
}
count_wal2json_v1() { # one line per transaction: count occurrences, not lines
	{ grep -o -F -- "\"kind\":\"insert\",\"schema\":\"${EVENTS_TABLE%%.*}\",\"table\":\"${EVENTS_TABLE#*.}\"" "$1" || true; } | wc -l
}
count_wal2json_v2() {
	grep -c -F -- "\"action\":\"I\",\"schema\":\"${EVENTS_TABLE%%.*}\",\"table\":\"${EVENTS_TABLE#*.}\"" "$1" || true
}
count_regex() { # count_regex REGEX FILE; an empty REGEX counts every line
	if [[ -z $1 ]]; then
		wc -l <"$2"
	else
		grep -c -E -- "$1" "$2" || true
	fi
}

# count_events LABEL FILE: dispatch to LABEL's counter.
count_events() {
	if [[ ${V_COUNT[$1]} == count_regex ]]; then
		count_regex "${V_REGEX[$1]}" "$2"
	else
		"${V_COUNT[$1]}" "$2"
	fi
}

# pgoutput writes binary protocol messages; pg_recvlogical appends "\n" to
# each.  Walk the messages (protocol version 1) and count Insert messages on
# the events relation.  Dies on anything it does not understand, so a count
# is never a guess.
count_pgoutput() {
	perl -e '
		use strict; use warnings;
		my ($file, $want) = @ARGV;
		open(my $fh, "<:raw", $file) or die "$file: $!\n";
		my $buf = do { local $/; <$fh> } // ""; close $fh;
		my ($pos, $len, $inserts, %rel) = (0, length($buf), 0);
		sub u32 { my $v = unpack("N", substr($buf, $pos, 4)); $pos += 4; $v }
		sub u16 { my $v = unpack("n", substr($buf, $pos, 2)); $pos += 2; $v }
		sub cstr { my $e = index($buf, "\0", $pos); die "unterminated string at $pos\n" if $e < 0;
		           my $s = substr($buf, $pos, $e - $pos); $pos = $e + 1; $s }
		sub tuple { for (1 .. u16()) { my $k = substr($buf, $pos++, 1);
		              if ($k eq "t" or $k eq "b") { $pos += u32() }
		              elsif ($k ne "n" and $k ne "u") { die "bad column kind \"$k\" at $pos\n" } } }
		while ($pos < $len) {
			my $t = substr($buf, $pos++, 1);
			if    ($t eq "B") { $pos += 20 }                         # final lsn, ts, xid
			elsif ($t eq "C") { $pos += 25 }                         # flags, 2 lsn, ts
			elsif ($t eq "O") { $pos += 8; cstr() }
			elsif ($t eq "Y") { $pos += 4; cstr(); cstr() }
			elsif ($t eq "R") { my $id = u32(); my $ns = cstr(); my $name = cstr(); $pos += 1;
			                    for (1 .. u16()) { $pos += 1; cstr(); $pos += 8 }
			                    $rel{$id} = ($ns eq "" ? "pg_catalog" : $ns) . ".$name" }
			elsif ($t eq "I") { my $id = u32(); $pos += 1; tuple();
			                    $inserts++ if ($rel{$id} // "") eq $want }
			elsif ($t eq "U") { $pos += 4; my $k = substr($buf, $pos++, 1);
			                    if ($k eq "K" or $k eq "O") { tuple(); $pos += 1 } tuple() }
			elsif ($t eq "D") { $pos += 5; tuple() }
			elsif ($t eq "T") { my $n = u32(); $pos += 1 + 4 * $n }
			elsif ($t eq "M") { $pos += 9; cstr(); $pos += u32() }
			else { die sprintf("unknown pgoutput message \"%s\" at offset %d\n", $t, $pos - 1) }
			substr($buf, $pos++, 1) eq "\n" or die "no newline after \"$t\" message at $pos\n";
		}
		print "$inserts\n";
	' "$1" "$EVENTS_TABLE"
}

# ---------------------------------------------------------------------------
# Workload SQL.  One event's columns, shared by the bulk statement and the
# pgbench script, as a SELECT list over v.agg (aggregate number), v.ver
# (version) and x.h (an md5 of both, for varied but deterministic payloads).
# data is ~200 bytes of JSON, metadata ~130.
# ---------------------------------------------------------------------------
EVENT_COLUMNS="aggregate_id, version, type, data, metadata, event_id"
EVENT_SELECT_LIST="
       md5('agg-' || v.agg)::uuid,
       v.ver,
       (ARRAY['ItemAdded', 'ItemQuantityChanged', 'ItemRemoved'])[1 + (v.ver % 3)::int],
       jsonb_build_object(
           'item_name', 'Item ' || substr(x.h, 1, 24),
           'sku',       'SKU-' || upper(substr(x.h, 25, 8)),
           'quantity',  1 + v.ver % 9,
           'price',     round(((v.agg * 31 + v.ver * 7919) % 100000) / 100.0, 2),
           'currency',  'EUR',
           'warehouse', 'WH-' || lpad((v.agg % 16)::text, 2, '0'),
           'note',      'added from web checkout, campaign ' || substr(x.h, 9, 12)),
       jsonb_build_object(
           'correlation_id', md5('corr-' || v.agg || '-' || v.ver)::uuid,
           'causation_id',   md5('caus-' || v.agg || '-' || v.ver)::uuid,
           'user_id',        'user-' || (v.agg % 5000)),
       gen_random_uuid()"

schema_sql() {
	cat <<'SQL'
CREATE TABLE public.aggregates (
    id      uuid PRIMARY KEY,
    type    text,
    version bigint
);
CREATE TABLE public.events (
    aggregate_id uuid,
    version      bigint,
    type         text,
    data         jsonb,
    metadata     jsonb,
    event_id     uuid,
    recorded_at  timestamptz DEFAULT now(),
    PRIMARY KEY (aggregate_id, version)
);
SQL
	echo "INSERT INTO public.aggregates (id, type, version)"
	echo "SELECT md5('agg-' || i)::uuid, 'Cart', 0 FROM generate_series(1, $N_AGGREGATES) AS i;"
	echo "VACUUM ANALYZE;"
}

# (a): all N events in one statement; event i goes to aggregate i % M + 1
# with version i / M + 1.
bulk_insert_sql() {
	cat <<SQL
INSERT INTO public.events ($EVENT_COLUMNS)
SELECT $EVENT_SELECT_LIST
  FROM generate_series(0::bigint, $N_EVENTS - 1) AS g(i),
       LATERAL (SELECT (g.i % $N_AGGREGATES + 1)::int AS agg,
                       g.i / $N_AGGREGATES + 1 AS ver) AS v,
       LATERAL (SELECT md5(v.agg || '/' || v.ver) AS h) AS x;
SQL
}

# (b): one append per transaction.  The UPDATE takes the aggregate's row lock
# and returns its new version (what optimistic concurrency would check), so
# concurrent appends to one aggregate serialize and versions never collide.
pgbench_append_script() {
	cat <<SQL
\set aid random(1, :naggs)
BEGIN;
UPDATE public.aggregates SET version = version + :k
 WHERE id = md5('agg-' || :aid::int)::uuid
RETURNING version AS newver \gset
INSERT INTO public.events ($EVENT_COLUMNS)
SELECT $EVENT_SELECT_LIST
  FROM generate_series(1, :k::int) AS g(i),
       LATERAL (SELECT :aid::int AS agg, :newver::bigint - :k::int + g.i AS ver) AS v,
       LATERAL (SELECT md5(v.agg || '/' || v.ver) AS h) AS x;
COMMIT;
SQL
}

# ---------------------------------------------------------------------------
# Measuring one decode
# ---------------------------------------------------------------------------

# sample_proc PID FILE: until PID exits, track its peak RssAnon (private
# memory: palloc'd reorder buffers and output strings; shared_buffers pages
# are excluded), its VmHWM and its CPU ticks; write them to FILE at the end.
# CPU is therefore short by at most one SAMPLE_INTERVAL.
sample_proc() {
	local pid=$1 out=$2 k v _ anon=0 peak=0 hwm=0 cpu=0
	local -a st
	while [[ -r /proc/$pid/status ]]; do
		if ! { while read -r k v _; do
			case $k in
			RssAnon:) anon=$v ;;
			VmHWM:) hwm=$v ;;
			esac
		done <"/proc/$pid/status"; } 2>/dev/null; then break; fi
		if ((anon > peak)); then peak=$anon; fi
		if read -r -a st <"/proc/$pid/stat" 2>/dev/null; then cpu=$((st[13] + st[14])); fi
		sleep "$SAMPLE_INTERVAL"
	done
	echo "$peak $hwm $cpu" >"$out"
}

# decode_once LABEL REPEAT: decode a fresh copy of LABEL's slot up to
# $END_LSN, verify, and append one row to $RUNS_TSV.
decode_once() {
	local v=$1 rep=$2
	local slot="${V_SLOT[$v]}_r$rep" base="$RUN_DIR/decode_${v}_r$rep"
	local out="$base.out" tf="$base.time" ef="$base.err" sf="$base.sample"
	local -a opts
	read -r -a opts <<<"${V_OPTS[$v]}"

	# A copy starts at the same restart/confirmed LSN as the pristine slot
	# made before the workload, so every repeat decodes the same range.
	sql bench "SELECT pg_copy_logical_replication_slot('${V_SLOT[$v]}', '$slot')" >/dev/null

	local t0=$EPOCHREALTIME
	/usr/bin/time -v -o "$tf" \
		"$PGBIN/pg_recvlogical" "${CONN[@]}" -d bench --slot="$slot" \
		--start --no-loop --endpos="$END_LSN" \
		--fsync-interval="$RECV_FSYNC_INTERVAL" -f "$out" "${opts[@]}" 2>"$ef" &
	RECV_PID=$!

	# The plugin runs in the walsender serving that slot: find it, sample it.
	local wpid="" i
	for ((i = 0; i < 1000; i++)); do
		wpid=$(sql bench "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$slot' AND active")
		[[ -n $wpid ]] && break
		kill -0 "$RECV_PID" 2>/dev/null || break
		sleep 0.01
	done
	if [[ -n $wpid ]]; then
		sample_proc "$wpid" "$sf" &
		SAMPLER_PID=$!
	fi

	local rc=0
	wait "$RECV_PID" || rc=$?
	local t1=$EPOCHREALTIME
	RECV_PID=""
	# A failing decoder is a result (e.g. a transaction too big for the
	# plugin), not a reason to stop: record it and go on with the others.
	local err=""
	if ((rc != 0)); then
		err=$(grep -m1 -E 'ERROR|FATAL|error' "$ef" || head -n1 "$ef")
		err+=$(grep -m1 -o 'DETAIL: .*' "$ef" | sed 's/^/ /' || true)
		printf '%s\t%s\n' "$v" "pg_recvlogical exit $rc: $err" >>"$RUN_DIR/errors.tsv"
	fi
	if [[ -n $SAMPLER_PID ]]; then # ends when the walsender exits
		wait "$SAMPLER_PID" || true
		SAMPLER_PID=""
	fi
	local ws_anon=0 ws_hwm=0 ws_ticks=0
	[[ -s $sf ]] && read -r ws_anon ws_hwm ws_ticks <"$sf"

	# Slot statistics, then drop the copy once its walsender is gone.
	local stats
	for ((i = 0; i < 500; i++)); do
		[[ $(sql bench "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'") == f ]] && break
		sleep 0.02
	done
	stats=$(sql bench "SELECT spill_txns, spill_bytes, total_txns, total_bytes
	                     FROM pg_stat_replication_slots WHERE slot_name = '$slot'")
	sql bench "SELECT pg_drop_replication_slot('$slot')" >/dev/null
	local spill_txns spill_bytes total_txns total_bytes
	IFS='|' read -r spill_txns spill_bytes total_txns total_bytes <<<"$stats"

	local wall out_bytes events ok recv_user recv_sys recv_rss
	wall=$(calc "$t1 - $t0")
	out_bytes=$(stat -c %s "$out" 2>/dev/null || echo 0)
	[[ -f $out ]] || : >"$out"
	ok=ok
	if ! events=$(count_events "$v" "$out"); then
		log "  could not count the events in $v's output"
		events=-1
	fi
	[[ $events == "$N_EVENTS" ]] || ok=FAIL
	[[ -z $err ]] || ok=ERROR
	recv_user=$(awk -F': ' '/User time \(seconds\)/ {print $2}' "$tf")
	recv_sys=$(awk -F': ' '/System time \(seconds\)/ {print $2}' "$tf")
	recv_rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
	[[ $KEEP_WORKDIR == 1 ]] || rm -f "$out"

	printf '%s\t%d\t%.3f\t%s\t%s\t%s\t%.2f\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$v" "$rep" "$wall" "$events" "$ok" "$out_bytes" \
		"$(calc "$recv_user + $recv_sys")" "$recv_rss" \
		"$(calc "$ws_ticks / $CLK_TCK")" "$ws_anon" "$ws_hwm" \
		"${spill_txns:-0}" "${spill_bytes:-0}" "${total_txns:-0}" "${total_bytes:-0}" \
		>>"$RUNS_TSV"
	log "  $v #$rep: $(fmt %.2f "$wall") s, $events events ($ok), $((out_bytes / 1024)) KiB out${err:+; $err}"
}

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
report() {
	local wal_b_mb td_rate=""
	wal_b_mb=$(calc "$WAL_B / 1048576")

	echo "== decode_baseline $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n) =="
	echo "command:  $RUN_COMMAND"
	echo "machine:  $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
	echo "server:   $PG_VERSION; wal2json $WAL2JSON_VERSION"
	echo "settings: $SETTINGS"
	echo "noise:    1-min load average $LOAD_START at start, $LOAD_END at end (ours adds ~1-2); CPU steal during the run $STEAL_PCT%"
	echo "workload: N=$N_EVENTS events, K=$TXN_SIZE events/txn, M=$N_AGGREGATES aggregates;" \
		"avg data $DATA_AVG B, metadata $META_AVG B (as JSON text)"
	echo
	echo "Append throughput"
	printf '  %-46s %9s %8s %10s %9s %9s\n' workload events wall_s events/s WAL_MB WAL_B/ev
	printf '  %-46s %9d %8.2f %10.0f %9.1f %9.0f\n' \
		"(a) one INSERT ... SELECT (1 statement)" "$N_EVENTS" "$WALL_A" \
		"$(calc "$N_EVENTS / $WALL_A")" "$(calc "$WAL_A / 1048576")" "$(calc "$WAL_A / $N_EVENTS")"
	printf '  %-46s %9d %8.2f %10.0f %9.1f %9.0f\n' \
		"(b) pgbench ${CLIENTS}c, $((N_EVENTS / TXN_SIZE)) txns (UPDATE + $TXN_SIZE ev)" "$N_EVENTS" "$WALL_B" \
		"$(calc "$N_EVENTS / $WALL_B")" "$wal_b_mb" "$(calc "$WAL_B / $N_EVENTS")"
	echo "      pgbench: tps $PGB_TPS (= $(fmt %.0f "$(calc "$PGB_TPS * $TXN_SIZE")") events/s), latency avg $PGB_LAT ms"
	echo
	echo "Decoding (b)'s WAL: $START_LSN .. $END_LSN ($(fmt %.1f "$wal_b_mb") MB), pg_recvlogical --endpos," \
		"median of $REPEATS (wall range in brackets)"
	printf '  %-14s %7s %7s %15s %8s %6s %7s %6s %6s %6s %6s %7s %7s %s\n' \
		decoder events wall_s "(min-max)" events/s vs_td out_MB B/ev \
		rcv_s rcv_MB wsn_s wsn_MB spillMB check
	local v
	for v in "${VARIANTS[@]}"; do
		local -a rows
		mapfile -t rows < <(awk -F'\t' -v v="$v" '$1 == v' "$RUNS_TSV" | sort -t$'\t' -k3,3g)
		((${#rows[@]})) || continue
		local med min max all_ok=ok r
		IFS=$'\t' read -r -a med <<<"${rows[$(((${#rows[@]} - 1) / 2))]}"
		min=$(cut -f3 <<<"${rows[0]}")
		max=$(cut -f3 <<<"${rows[-1]}")
		for r in "${rows[@]}"; do
			case $(cut -f5 <<<"$r") in
			ERROR) all_ok=ERROR ;;
			FAIL) [[ $all_ok == ERROR ]] || all_ok=FAIL ;;
			esac
		done
		# Rates only mean something for complete decodes.
		local rate="-" vs_td="-"
		if [[ $all_ok == ok ]]; then
			rate=$(calc "$N_EVENTS / ${med[2]}")
			[[ $v == test_decoding ]] && td_rate=$rate
			[[ -z $td_rate ]] || vs_td=$(fmt %.2f "$(calc "$rate / $td_rate")")
			rate=$(fmt %.0f "$rate")
		fi
		printf '  %-14s %7s %7s %15s %8s %6s %7.1f %6.0f %6.2f %6.1f %6.2f %6.1f %7.1f %s\n' \
			"$v" "${med[3]}" "$(fmt %.2f "${med[2]}")" "($(fmt %.2f "$min")-$(fmt %.2f "$max"))" "$rate" "$vs_td" \
			"$(calc "${med[5]} / 1048576")" "$(calc "${med[5]} / $N_EVENTS")" \
			"${med[6]}" "$(calc "${med[7]} / 1024")" "${med[8]}" "$(calc "${med[9]} / 1024")" \
			"$(calc "${med[12]} / 1048576")" \
			"$all_ok$([[ $all_ok != FAIL ]] || echo " (events ${med[3]} != $N_EVENTS)")"
	done
	if [[ -s $RUN_DIR/errors.tsv ]]; then
		echo "  errors (decoder: first error line; such runs do not count as full decodes):"
		sort -u "$RUN_DIR/errors.tsv" | while IFS=$'\t' read -r v e; do echo "    $v: $e"; done
	fi
	echo
	echo "  events/s = N / wall of pg_recvlogical (connect .. --endpos reached); vs_td = relative to test_decoding"
	echo "  out_MB/B/ev = consumer output file (pg_recvlogical adds one newline per message)"
	echo "  rcv_s/rcv_MB = pg_recvlogical user+sys CPU and max RSS (/usr/bin/time -v)"
	echo "  wsn_s/wsn_MB = walsender (where the plugin runs) CPU and peak private RSS, sampled every ${SAMPLE_INTERVAL}s"
	echo "  spillMB = reorder buffer spilled to disk (pg_stat_replication_slots; logical_decoding_work_mem=$LDWM)"
	echo "  test_decoding also emits the aggregates UPDATEs; wal2json filters add-tables=${WAL2JSON_TABLES:-<all>};" \
		"pgoutput publishes $EVENTS_TABLE only"
	echo "  raw runs: $(basename "$RESULTS_TSV")"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
main() {
	case ${1-} in
	-h | --help)
		usage
		exit 0
		;;
	"") ;;
	*)
		usage >&2
		die "unknown argument '$1' (configuration is by environment variables)"
		;;
	esac

	local var
	for var in N_EVENTS TXN_SIZE N_AGGREGATES CLIENTS REPEATS PORT; do require_uint "$var"; done
	[[ $PGBENCH_SEED =~ ^[0-9]+$ ]] || die "PGBENCH_SEED must be an integer"
	[[ $RECV_FSYNC_INTERVAL =~ ^[0-9]+$ ]] || die "RECV_FSYNC_INTERVAL must be a whole number of seconds"
	((N_EVENTS % (TXN_SIZE * CLIENTS) == 0)) ||
		die "N_EVENTS ($N_EVENTS) must be a multiple of TXN_SIZE*CLIENTS ($((TXN_SIZE * CLIENTS)))"
	[[ $EVENTS_TABLE == *.* ]] || die "EVENTS_TABLE must be schema-qualified (got '$EVENTS_TABLE')"
	[[ -z $PGBENCH_SCRIPT || -r $PGBENCH_SCRIPT ]] || die "PGBENCH_SCRIPT '$PGBENCH_SCRIPT' is not readable"
	define_variants

	# Preflight: check everything we call, so that a missing piece fails now
	# rather than after the workload.
	local bin
	for bin in initdb pg_ctl postgres psql pgbench pg_recvlogical pg_config; do
		[[ -x $PGBIN/$bin ]] || die "$PGBIN/$bin not found (set PGBIN)"
	done
	[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install time)"
	command -v perl >/dev/null || die "perl not found"
	local pkglibdir major
	pkglibdir=$("$PGBIN/pg_config" --pkglibdir)
	major=$("$PGBIN/pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
	[[ -f $pkglibdir/wal2json.so ]] ||
		die "wal2json is not installed in $pkglibdir (apt-get install postgresql-$major-wal2json)"
	[[ -f $pkglibdir/test_decoding.so ]] ||
		die "test_decoding is not installed in $pkglibdir (it ships with postgresql-$major / contrib)"
	local p
	for p in $EXTRA_PLUGINS; do
		[[ -f $pkglibdir/$p.so || (-n $EXTRA_LIBDIR && -f $EXTRA_LIBDIR/$p.so) ]] ||
			die "plugin '$p' not found: no $p.so in $pkglibdir${EXTRA_LIBDIR:+ or $EXTRA_LIBDIR} (install it or set EXTRA_LIBDIR)"
	done
	if [[ $EUID -eq 0 ]]; then
		id -u "$PG_OS_USER" >/dev/null 2>&1 || die "PG_OS_USER '$PG_OS_USER' does not exist"
	fi
	CLK_TCK=$(getconf CLK_TCK)
	WAL2JSON_VERSION=$(dpkg-query -W -f '${Version}' "postgresql-$major-wal2json" 2>/dev/null || echo "(not from dpkg)")

	# The command line that reproduces this run, for the results file.
	RUN_COMMAND=""
	for var in N_EVENTS TXN_SIZE N_AGGREGATES CLIENTS REPEATS PGBENCH_SEED WAL2JSON_TABLES; do
		RUN_COMMAND+="$var=$(printf '%q' "${!var}") "
	done
	for var in RECV_FSYNC_INTERVAL EXTRA_PLUGINS EXTRA_LIBDIR EXTRA_SETUP_SQL PGBENCH_SCRIPT EVENTS_TABLE EXTRA_PG_CONF; do
		[[ -z ${!var} || ($var == RECV_FSYNC_INTERVAL && ${!var} == 0) ||
			($var == EVENTS_TABLE && ${!var} == public.events) ]] ||
			RUN_COMMAND+="$var=$(printf '%q' "${!var}") "
	done
	for var in $EXTRA_PLUGINS; do # their options are in the per-decoder list
		[[ -z ${V_REGEX[$var]} ]] || RUN_COMMAND+="EXTRA_COUNT_$var=$(printf '%q' "${V_REGEX[$var]}") "
	done
	RUN_COMMAND+="$SCRIPT_PATH"

	# Background load and hypervisor steal make numbers on a shared VM move;
	# record them so a noisy run can be recognised.
	LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
	if awk -v l="$LOAD_START" 'BEGIN { exit !(l >= 0.5) }'; then
		log "warning: 1-min load average is $LOAD_START before we start: other work is running, numbers will be noisy"
	fi
	local cpu0_total cpu0_steal cpu1_total cpu1_steal
	read -r cpu0_total cpu0_steal < <(cpu_counters)

	# Private run dir owned by the server's user; the socket lives here too,
	# so nobody else can connect.
	mkdir -p "$WORK_ROOT" "$RESULTS_DIR"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR
	RUN_DIR=$(mktemp -d "$WORK_ROOT/decode_baseline.XXXXXX")
	DATA_DIR=$RUN_DIR/data
	[[ $EUID -eq 0 ]] && chown "$PG_OS_USER:" "$RUN_DIR"
	cd "$RUN_DIR"
	CONN=(-h "$RUN_DIR" -p "$PORT" -U postgres)
	local stamp
	stamp=$(date +%Y%m%d-%H%M%S)
	RESULTS_TXT="$RESULTS_DIR/decode_baseline_${stamp}_n${N_EVENTS}_k${TXN_SIZE}.txt"
	RESULTS_TSV="${RESULTS_TXT%.txt}.tsv"
	RUNS_TSV=$RUN_DIR/runs.tsv
	printf 'decoder\trepeat\twall_s\tevents\tcheck\tout_bytes\trecv_cpu_s\trecv_maxrss_kb\twalsender_cpu_s\twalsender_peak_anon_kb\twalsender_vmhwm_kb\tspill_txns\tspill_bytes\ttotal_txns\ttotal_bytes\n' >"$RUNS_TSV"

	# --- 1. cluster --------------------------------------------------------
	log "initdb in $DATA_DIR"
	as_pg "$PGBIN/initdb" -D "$DATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C >"$RUN_DIR/initdb.log" 2>&1 ||
		{
			cat "$RUN_DIR/initdb.log" >&2
			die "initdb failed"
		}
	{
		echo "# ---- decode_baseline.sh ----"
		echo "listen_addresses = ''                  # unix socket only"
		echo "unix_socket_directories = '$RUN_DIR'"
		echo "port = $PORT"
		echo "wal_level = logical"
		echo "max_replication_slots = $MAX_SLOTS"
		echo "max_wal_senders = 10"
		echo "fsync = on                             # real durability"
		echo "synchronous_commit = on"
		echo "full_page_writes = on"
		echo "shared_buffers = 256MB"
		echo "logical_decoding_work_mem = 64MB       # the default, pinned: when big txns spill"
		echo "max_wal_size = 4GB                     # checkpoints only where the script asks"
		echo "checkpoint_timeout = 30min"
		if [[ -n $EXTRA_LIBDIR ]]; then
			echo "dynamic_library_path = '\$libdir:$EXTRA_LIBDIR'"
		fi
		[[ -z $EXTRA_PG_CONF ]] || printf '%s\n' "$EXTRA_PG_CONF"
	} >>"$DATA_DIR/postgresql.conf"
	as_pg "$PGBIN/pg_ctl" -D "$DATA_DIR" -l "$RUN_DIR/server.log" -w -t 60 start >/dev/null

	PG_VERSION=$(sql postgres "SELECT version()" | sed 's/ on x86_64.*//; s/, compiled by.*//')
	SETTINGS=$(sql postgres "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name)
	                           FROM pg_settings WHERE name IN ('wal_level', 'fsync', 'synchronous_commit',
	                             'shared_buffers', 'max_wal_size', 'logical_decoding_work_mem',
	                             'max_replication_slots', 'wal_compression', 'jit')")
	LDWM=$(sql postgres "SHOW logical_decoding_work_mem")

	sql postgres "CREATE DATABASE bench" >/dev/null
	sql postgres "CREATE DATABASE bench_bulk" >/dev/null
	schema_sql | sql_script bench >/dev/null
	schema_sql | sql_script bench_bulk >/dev/null
	if [[ -n $EXTRA_SETUP_SQL ]]; then
		log "EXTRA_SETUP_SQL"
		sql_script bench <<<"$EXTRA_SETUP_SQL" >/dev/null
	fi

	# --- 2. (a) bulk append, before any slot exists ----------------------------
	log "(a) one INSERT ... SELECT of $N_EVENTS events (database bench_bulk)"
	local l0 l1 t0 t1 n
	l0=$(sql bench_bulk "SELECT pg_current_wal_insert_lsn()")
	t0=$EPOCHREALTIME
	bulk_insert_sql | sql_script bench_bulk >/dev/null
	t1=$EPOCHREALTIME
	l1=$(sql bench_bulk "SELECT pg_current_wal_insert_lsn()")
	WALL_A=$(calc "$t1 - $t0")
	WAL_A=$(sql bench_bulk "SELECT pg_wal_lsn_diff('$l1', '$l0')")
	n=$(sql bench_bulk "SELECT count(*) FROM public.events")
	[[ $n == "$N_EVENTS" ]] || die "(a) inserted $n events, expected $N_EVENTS"
	log "    $(fmt %.2f "$WALL_A") s, $(fmt %.0f "$(calc "$N_EVENTS / $WALL_A")") events/s"
	# Settle it now so autovacuum and dirty buffers do not disturb what follows.
	sql bench_bulk "VACUUM ANALYZE" >/dev/null
	sql postgres "CHECKPOINT" >/dev/null

	# --- 3. publication and slots, before the decoded workload --------------
	log "creating publication and ${#VARIANTS[@]} slots"
	sql bench "CREATE PUBLICATION $PUBLICATION FOR TABLE $EVENTS_TABLE" >/dev/null
	local v
	for v in "${VARIANTS[@]}"; do
		sql bench "SELECT pg_create_logical_replication_slot('${V_SLOT[$v]}', '${V_PLUGIN[$v]}')" >/dev/null ||
			die "could not create a slot for plugin '${V_PLUGIN[$v]}'"
	done

	# --- 4. (b) the decoded workload -----------------------------------------
	local script=$RUN_DIR/append.sql
	if [[ -n $PGBENCH_SCRIPT ]]; then
		cp "$PGBENCH_SCRIPT" "$script"
	else
		pgbench_append_script >"$script"
	fi
	local txns=$((N_EVENTS / TXN_SIZE))
	log "(b) pgbench: $CLIENTS clients, $txns transactions of UPDATE + $TXN_SIZE events (database bench)"
	START_LSN=$(sql bench "SELECT pg_current_wal_insert_lsn()")
	t0=$EPOCHREALTIME
	"$PGBIN/pgbench" "${CONN[@]}" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" \
		-t $((txns / CLIENTS)) --random-seed="$PGBENCH_SEED" \
		-D naggs="$N_AGGREGATES" -D k="$TXN_SIZE" -f "$script" bench \
		>"$RUN_DIR/pgbench.log" 2>&1 || {
		cat "$RUN_DIR/pgbench.log" >&2
		die "pgbench failed"
	}
	t1=$EPOCHREALTIME
	END_LSN=$(sql bench "SELECT pg_current_wal_insert_lsn()")
	WALL_B=$(calc "$t1 - $t0")
	WAL_B=$(sql bench "SELECT pg_wal_lsn_diff('$END_LSN', '$START_LSN')")
	PGB_TPS=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$RUN_DIR/pgbench.log" | tail -n 1)
	PGB_LAT=$(sed -nE 's/^latency average = ([0-9.]+) ms.*/\1/p' "$RUN_DIR/pgbench.log")
	grep -q "^number of transactions actually processed: $txns/$txns" "$RUN_DIR/pgbench.log" || {
		cat "$RUN_DIR/pgbench.log" >&2
		die "pgbench did not complete all $txns transactions"
	}
	n=$(sql bench "SELECT count(*) FROM $EVENTS_TABLE")
	[[ $n == "$N_EVENTS" ]] || die "(b) left $n events in $EVENTS_TABLE, expected $N_EVENTS"
	log "    $(fmt %.2f "$WALL_B") s, $(fmt %.0f "$(calc "$N_EVENTS / $WALL_B")") events/s, WAL $START_LSN .. $END_LSN"
	IFS='|' read -r DATA_AVG META_AVG < <(sql bench "SELECT coalesce(round(avg(length(data::text)))::text, 'n/a'),
	                                                          coalesce(round(avg(length(metadata::text)))::text, 'n/a')
	                                                   FROM (SELECT * FROM public.events LIMIT 10000) s")

	# Past END_LSN: a logical message (so decoders that emit messages stop at
	# once), then VACUUM and CHECKPOINT so that neither autovacuum nor the
	# checkpointer competes with the decoders for the two cores.
	sql bench "SELECT pg_logical_emit_message(false, 'decode_baseline', 'end of workload')" >/dev/null
	sql bench "VACUUM ANALYZE" >/dev/null
	sql postgres "CHECKPOINT" >/dev/null

	# --- 5. decode, one decoder at a time, rotating the order per repeat ------
	local rep i count=${#VARIANTS[@]}
	for ((rep = 1; rep <= REPEATS; rep++)); do
		log "decode round $rep/$REPEATS"
		for ((i = 0; i < count; i++)); do
			decode_once "${VARIANTS[$(((i + rep - 1) % count))]}" "$rep"
		done
	done

	# --- 6. report ---------------------------------------------------------
	local FAILED=0
	read -r cpu1_total cpu1_steal < <(cpu_counters)
	LOAD_END=$(cut -d' ' -f1 /proc/loadavg)
	STEAL_PCT=$(fmt %.1f "$(calc "100 * ($cpu1_steal - $cpu0_steal) / ($cpu1_total - $cpu0_total + 1)")")
	cp "$RUNS_TSV" "$RESULTS_TSV"
	report >"$RESULTS_TXT"
	{
		echo
		echo "pg_recvlogical options per decoder:"
		for v in "${VARIANTS[@]}"; do
			printf '  %-14s plugin=%s %s\n' "$v" "${V_PLUGIN[$v]}" "${V_OPTS[$v]}"
		done
		echo "total script time: $(fmt %.0f "$(calc "$EPOCHREALTIME - $SCRIPT_START")") s"
	} >>"$RESULTS_TXT"
	if awk -F'\t' 'NR > 1 && $5 != "ok" {bad = 1} END {exit !bad}' "$RUNS_TSV"; then FAILED=1; fi
	echo
	cat "$RESULTS_TXT"
	echo
	log "results written to $RESULTS_TXT"
	if ((FAILED)); then
		die "some decoder did not emit all $N_EVENTS events (see the check column)"
	fi
}

main "$@"
