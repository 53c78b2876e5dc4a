#!/usr/bin/env bash
#
# run.sh - run the benchmarks of bench/ (`make bench`), each with its
# prerequisites, one after another (they measure; running two at once on two
# cores would measure each other).
#
#   bench/run.sh [NAME...]      default: every benchmark, in the order below
#   bench/run.sh --list         the names
#
#   append      extension: eventstore.append() vs hand-written SQL, load()
#   decode      output plugin vs test_decoding, wal2json, pgoutput; one huge
#               transaction (decode_bench.sh all)
#   relay       eventrelay vs pg_recvlogical, Kinesis path, latency, memory
#   pgoutput    eventrelay --decoder pgoutput vs the plugin vs pg_recvlogical;
#               one 1,500,000-event transaction (memory)
#   kinesis     Kinesis sink at 25 ms round trips (stand-in): today's relay
#               (00a0684) vs this one, many aggregates / one, 5% failing
#   kinesis_latency  commit -> stored at 1,000 events/s, 25 ms round trips
#   backfill_live  live latency while --backfill publishes 200,000 events:
#               no backfill / this relay / 39e108e (the stream waited)
#   ddb         DynamoDB path: stdin pluck vs jq
#   s3          S3 archive replay vs the AWS CLI
#   json        the relay's JSON reader (relay/src/json.c) vs json-c
#   slot_soak   the relay's slot while only other tables are written
#   kill_loop   duplicates per relay SIGKILL and per PostgreSQL crash (60 s, 16 kills)
#
# Arguments after a name go to that benchmark when only one is named
# (`bench/run.sh decode throughput`, `bench/run.sh ddb 5000`).  Each
# benchmark's output is also kept in bench/results/<name>-<UTC time>.log (not
# committed); each cleans up its own servers and scratch directories, and an
# interrupt stops the one running (its cleanup runs).  The current numbers
# belong in bench/RESULTS.md: replace that benchmark's table, with the
# command and the commit.
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

NAMES=(append decode relay pgoutput kinesis kinesis_latency backfill_live ddb s3 json slot_soak kill_loop)

# script NAME: the script of a benchmark; deps NAME: the scripts/deps.sh groups it needs.
script() {
	case $1 in
		append) echo append_bench.sh ;;
		decode) echo decode_bench.sh ;;
		relay) echo relay_bench.sh ;;
		pgoutput) echo pgoutput_bench.sh ;;
		kinesis) echo kinesis_bench.sh ;;
		kinesis_latency) echo kinesis_latency.sh ;;
		backfill_live) echo backfill_live.sh ;;
		ddb) echo ddb_bench.sh ;;
		s3) echo s3_bench.sh ;;
		json) echo json_ab.sh ;;
		slot_soak) echo relay_slot_soak.sh ;;
		kill_loop) echo relay_kill_loop.sh ;;
		*) return 1 ;;
	esac
}
deps() {
	case $1 in
		append) echo pg ;;
		decode) echo pg bench ;;
		relay) echo pg relay node aws ;;
		pgoutput) echo pg relay ;;
		kinesis) echo pg relay node ;;
		kinesis_latency) echo pg relay node ;;
		backfill_live) echo pg relay node ;;
		ddb) echo relay ;;
		s3) echo relay aws node ;;
		json) echo relay ;;
		slot_soak) echo pg relay ;;
		kill_loop) echo pg relay node aws ;;
	esac
}

if [[ ${1-} == --list ]]; then
	printf '%s\n' "${NAMES[@]}"
	exit 0
fi
if [[ ${1-} == -h || ${1-} == --help ]]; then
	sed -n '3,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 0
fi

selected=()
extra=()
if (($# == 0)); then
	selected=("${NAMES[@]}")
else
	script "$1" >/dev/null || {
		echo "bench/run.sh: unknown benchmark '$1' (bench/run.sh --list)" >&2
		exit 2
	}
	selected=("$1")
	shift
	# Either more names, or the arguments of the one named.
	if (($# > 0)) && script "$1" >/dev/null; then
		for n in "$@"; do
			script "$n" >/dev/null || {
				echo "bench/run.sh: unknown benchmark '$n' (bench/run.sh --list)" >&2
				exit 2
			}
			selected+=("$n")
		done
	else
		extra=("$@")
	fi
fi

mkdir -p "$ROOT/bench/results"
child=""
trap '[[ -n $child ]] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 130' INT TERM

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -n1)
[[ -n $dirty ]] && commit+=" (with uncommitted changes)"

failed=()
for name in "${selected[@]}"; do
	# shellcheck disable=SC2046  # the groups are words
	bash "$ROOT/scripts/deps.sh" $(deps "$name") >/dev/null
	log=$ROOT/bench/results/$name-$(date -u +%Y%m%dT%H%M%SZ).log
	echo "== $name: bench/$(script "$name") ${extra[*]} (commit $commit, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
	set +e
	bash "$ROOT/bench/$(script "$name")" "${extra[@]}" > >(tee "$log") 2>&1 &
	child=$!
	wait "$child"
	rc=$?
	child=""
	wait # for tee to write the last of the log
	set -e
	case $rc in
		0) ;;
		77) echo "== $name: skipped (a prerequisite is missing)" ;;
		*)
			echo "== $name: failed (exit $rc), output in $log"
			failed+=("$name")
			;;
	esac
done
if ((${#failed[@]} > 0)); then
	echo "bench/run.sh: failed: ${failed[*]}" >&2
	exit 1
fi
