#!/usr/bin/env bash
#
# test.sh - the whole test suite, from a fresh machine: installs what is
# missing, builds and installs the extension, then runs
#   1. the extension's pg_regress and isolation tests on a throwaway cluster,
#   2. the relay's unit tests (relay/, if present),
#   3. every integration test tests/t_*.sh (each starts its own servers).
# Prints one line per suite and a closing "N passed, N failed" line; exits
# non-zero if anything failed.
#
#   scripts/test.sh [PATTERN]   only integration tests whose name matches PATTERN

set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FILTER=${1:-}
T0=$SECONDS

groups=(pg relay)
[[ -d relay ]] && groups+=(aws node)
[[ -f docker-compose.yml ]] && groups+=(compose)
bash scripts/deps.sh "${groups[@]}"

PASS=0
FAIL=0
FAILED=()
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/eventstore-testlogs.XXXXXX")

suite() { # suite NAME COMMAND...: run one suite, its output into a log
	local name=$1 t=$SECONDS rc=0
	shift
	printf '=== %-40s ' "$name"
	"$@" >"$LOGDIR/$name.log" 2>&1 || rc=$?
	if ((rc == 0)); then
		PASS=$((PASS + 1))
		printf 'ok (%ds)\n' $((SECONDS - t))
	elif ((rc == 77)); then
		printf 'skipped (%ds): %s\n' $((SECONDS - t)) "$(tail -n 1 "$LOGDIR/$name.log")"
	else
		FAIL=$((FAIL + 1))
		FAILED+=("$name")
		printf 'FAILED (%ds, exit %d)\n' $((SECONDS - t)) "$rc"
		echo "----- last 60 lines of $name -----"
		tail -n 60 "$LOGDIR/$name.log"
		echo "-----"
	fi
}

suite build-and-install-extension bash -c 'source tests/lib.sh && es_install_extension'
suite extension-regress bash tests/regress.sh
suite extension-regress-sql env ES_FLAVOUR=sql bash tests/regress.sh
if [[ -f relay/Makefile ]]; then
	suite relay-unit make -C relay check
	suite relay-fuzz make -C relay fuzz FUZZ_SECONDS=20
fi
for t in tests/t_*.sh; do
	[[ -e $t ]] || continue
	name=$(basename "$t" .sh)
	[[ -z $FILTER || $name == *$FILTER* ]] || continue
	suite "$name" timeout 900 bash "$t"
done

echo
echo "test logs: $LOGDIR"
echo "total time: $((SECONDS - T0)) s"
((FAIL == 0)) || echo "failed: ${FAILED[*]}"
echo "$PASS passed, $FAIL failed"
((FAIL == 0))
