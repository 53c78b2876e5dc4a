#!/usr/bin/env bash
#
# test.sh - the whole test suite, from a fresh machine: installs what is
# missing, then
#   1. the formatting checks (src/ and relay/) and the relay's unit tests,
#   2. on every PostgreSQL version of the matrix (15, the machine's; 17 and 18,
#      each in a Debian root made once by scripts/pg_root.sh and reused from
#      a cache directory): builds and installs the extension, runs its
#      pg_regress and isolation tests (C and SQL flavour), and every integration test marked
#      "# matrix: every PostgreSQL version" (the ones that exercise the
#      server: plugin, slots, upgrades) and those marked "# versions: N..."
#      for this version (PostgreSQL 17+ features: failover slots); the relay is the one built here,
#      on the machine's libpq, for all versions,
#   3. every other integration test tests/t_*.sh, on the machine's version.
# Each test starts its own servers.  Prints one line per suite, a result line
# per PostgreSQL version and a closing "N passed, N failed" line; exits
# non-zero if anything failed.
#
#   scripts/test.sh [--pg VERSION]... [--skip-missing-pg] [PATTERN]
#
#   --pg VERSION       only this version (repeatable); 1. and 3. run only
#                      when the machine's version is among them
#   --skip-missing-pg  a version whose root cannot be made (no network to
#                      Debian's mirror) is reported as skipped, not failed
#   PATTERN            only integration tests whose name matches PATTERN
#                      (then without the formatting checks, unit tests,
#                      fuzzing and pg_regress suites: a quick rerun of a few)
#
# ES_PG_VERSIONS (default "15 17 18") is the matrix.

set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

HOST_PG=15
VERSIONS=()
SKIP_MISSING=0
FILTER=
while (($#)); do
	case $1 in
	--pg)
		[[ ${2-} =~ ^[0-9]+$ ]] || {
			echo "test.sh: --pg needs a major version number, e.g. --pg 17" >&2
			exit 2
		}
		VERSIONS+=("$2")
		shift 2
		;;
	--pg=*)
		VERSIONS+=("${1#--pg=}")
		shift
		;;
	--skip-missing-pg)
		SKIP_MISSING=1
		shift
		;;
	-h | --help)
		sed -n '3,/^$/s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	-*)
		echo "test.sh: unknown option '$1' (--pg VERSION, --skip-missing-pg, PATTERN)" >&2
		exit 2
		;;
	*)
		FILTER=$1
		shift
		;;
	esac
done
((${#VERSIONS[@]})) || read -r -a VERSIONS <<<"${ES_PG_VERSIONS:-15 17 18}"
# The machine's version first: the other roots can be made meanwhile.
WITH_HOST=0
others=()
for v in "${VERSIONS[@]}"; do
	if [[ $v == "$HOST_PG" ]]; then WITH_HOST=1; else others+=("$v"); fi
done
VERSIONS=()
((WITH_HOST)) && VERSIONS=("$HOST_PG")
VERSIONS+=("${others[@]}")
T0=$SECONDS

groups=(pg relay)
[[ -d relay ]] && groups+=(aws node)
[[ -f docker-compose.yml ]] && groups+=(compose)
((WITH_HOST)) && groups+=(format)
[[ ${VERSIONS[*]} != "$HOST_PG" ]] && groups+=(roots)
bash scripts/deps.sh "${groups[@]}"

PASS=0
FAIL=0
FAILED=()
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/eventstore-testlogs.XXXXXX")
# A failed test leaves its scratch dir (server and relay logs); its log says where.
export ES_KEEP_FAILED=${ES_KEEP_FAILED:-1}
# Per PostgreSQL version (and "common" for what depends on none).
declare -A V_PASS=() V_FAIL=() V_SKIP=() V_TIME=() V_NOTE=()
CUR=common

suite() { # suite NAME COMMAND...: run one suite, its output into a log
	local name=$1 t=$SECONDS rc=0 log
	shift
	log=$LOGDIR/${name// /-}.log
	printf '=== %-40s ' "$name"
	"$@" >"$log" 2>&1 || rc=$?
	V_TIME[$CUR]=$((${V_TIME[$CUR]:-0} + SECONDS - t))
	if ((rc == 0)); then
		PASS=$((PASS + 1))
		V_PASS[$CUR]=$((${V_PASS[$CUR]:-0} + 1))
		printf 'ok (%ds)\n' $((SECONDS - t))
	elif ((rc == 77)); then
		V_SKIP[$CUR]=$((${V_SKIP[$CUR]:-0} + 1))
		printf 'skipped (%ds): %s\n' $((SECONDS - t)) "$(tail -n 1 "$log")"
	else
		FAIL=$((FAIL + 1))
		V_FAIL[$CUR]=$((${V_FAIL[$CUR]:-0} + 1))
		FAILED+=("$name")
		printf 'FAILED (%ds, exit %d)\n' $((SECONDS - t)) "$rc"
		echo "----- last 60 lines of $name -----"
		tail -n 60 "$log"
		echo "-----"
	fi
	return $rc
}

# The integration tests that run on every version of the matrix.
is_matrix_test() { grep -qx '# matrix: every PostgreSQL version' "$1"; }
# "# versions: 17 18": a test that runs on these versions only (when they are tested).
test_versions() { sed -n 's/^# versions: //p' "$1" | head -n 1; }
runs_on() { # runs_on TEST_FILE VERSION
	is_matrix_test "$1" || [[ " $(test_versions "$1") " == *" $2 "* ]]
}

selected() { # selected TEST_FILE
	local name
	name=$(basename "$1" .sh)
	[[ -z $FILTER || $name == *$FILTER* ]]
}

# run_pg_suites VERSION: the extension's suites and the server tests on one
# PostgreSQL major version (PG_MAJOR: tests/lib.sh picks the server).
run_pg_suites() {
	local v=$1 t name
	local -a env=(env PG_MAJOR="$v")
	suite "pg$v build-and-install" "${env[@]}" bash -c 'source tests/lib.sh && es_install_extension && es_pg_version' || return 0
	V_NOTE[$v]=$(tail -n 1 "$LOGDIR/pg$v-build-and-install.log")
	if [[ -z $FILTER ]]; then
		suite "pg$v regress" "${env[@]}" bash tests/regress.sh || true
		suite "pg$v regress-sql-flavour" "${env[@]}" ES_FLAVOUR=sql bash tests/regress.sh || true
	fi
	for t in tests/t_*.sh; do
		[[ -e $t ]] && runs_on "$t" "$v" && selected "$t" || continue
		name=$(basename "$t" .sh)
		suite "pg$v $name" timeout 900 "${env[@]}" bash "$t" || true
	done
}

needs_root() { [[ $1 != "$HOST_PG" && ! -x /usr/lib/postgresql/$1/bin/initdb ]]; }

# A root that has to be made (a few minutes, mostly download) is made in the
# background while the machine's version is tested.
declare -A ROOT_JOB=()
stop_root_jobs() {
	local p
	for p in "${ROOT_JOB[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap stop_root_jobs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for v in "${VERSIONS[@]}"; do
	if needs_root "$v" && ! bash scripts/pg_root.sh --check "$v" >/dev/null; then
		nice -n 10 bash scripts/pg_root.sh "$v" >"$LOGDIR/pg$v-root.log" 2>&1 &
		ROOT_JOB[$v]=$!
	fi
done

# ensure_root VERSION: the version's Debian root, made once and then reused
# (scripts/pg_root.sh); without it the version is failed, or skipped with
# --skip-missing-pg.
ensure_root() {
	local v=$1 log=$LOGDIR/pg$1-root.log t=$SECONDS rc=0 how=
	printf '=== %-40s ' "pg$v root"
	if [[ -n ${ROOT_JOB[$v]:-} ]]; then
		how="; made in the background, waited"
		wait "${ROOT_JOB[$v]}" || rc=$?
		unset 'ROOT_JOB[$v]'
	else
		bash scripts/pg_root.sh "$v" >"$log" 2>&1 || rc=$?
	fi
	if ((rc == 0)); then
		printf 'ok (%ds%s)\n' $((SECONDS - t)) "$how"
		return 0
	fi
	if ((SKIP_MISSING)); then
		V_SKIP[$v]=1
		V_NOTE[$v]="SKIPPED, its Debian root could not be made (--skip-missing-pg)"
		printf 'SKIPPED (--skip-missing-pg): PostgreSQL %s cannot be tested here\n' "$v"
	else
		FAIL=$((FAIL + 1))
		V_FAIL[$v]=1
		FAILED+=("pg$v-root")
		V_NOTE[$v]="NOT TESTED, its Debian root could not be made (--skip-missing-pg skips it)"
		printf 'FAILED: PostgreSQL %s cannot be tested here\n' "$v"
	fi
	sed 's/^/    /' "$log"
	return 1
}

if ((WITH_HOST)) && [[ -z $FILTER ]]; then
	suite "format-check src" make -s format-check || true
	[[ -f relay/Makefile ]] && { suite "format-check relay" make -s -C relay format-check || true; }
	[[ -f relay/Makefile ]] && { suite relay-unit make -C relay check || true; }
	[[ -f relay/Makefile ]] && { suite relay-fuzz make -C relay fuzz FUZZ_SECONDS=20 FUZZ_SEED=1 || true; }
fi

for v in "${VERSIONS[@]}"; do
	CUR=$v
	if needs_root "$v"; then
		ensure_root "$v" || continue
	fi
	run_pg_suites "$v"
done

if ((WITH_HOST)); then
	CUR=$HOST_PG
	for t in tests/t_*.sh; do
		[[ -e $t ]] && ! is_matrix_test "$t" && [[ -z $(test_versions "$t") ]] && selected "$t" || continue
		name=$(basename "$t" .sh)
		suite "$name" timeout 900 bash "$t" || true
	done
fi

echo
echo "test logs: $LOGDIR"
for v in common "${VERSIONS[@]}"; do
	[[ $v == common && -z ${V_TIME[common]:-} ]] && continue
	case $v:${V_NOTE[$v]:-} in
	common:*) label="formatting and relay unit tests" ;;
	*:) label="PostgreSQL $v" ;;
	*:[0-9]*) label="PostgreSQL ${V_NOTE[$v]}" ;;
	*) label="PostgreSQL $v: ${V_NOTE[$v]}" ;;
	esac
	printf '%-48s %d passed, %d failed, %d skipped (%ds)\n' "$label:" \
		"${V_PASS[$v]:-0}" "${V_FAIL[$v]:-0}" "${V_SKIP[$v]:-0}" "${V_TIME[$v]:-0}"
done
echo "total time: $((SECONDS - T0)) s"
((FAIL == 0)) || echo "failed: ${FAILED[*]}"
echo "$PASS passed, $FAIL failed"
((FAIL == 0))
