#!/usr/bin/env bash
#
# regress.sh - the extension's pg_regress and isolation suites (REGRESS and
# ISOLATION in the Makefile) against a throwaway wal_level=logical cluster of
# PostgreSQL $PG_MAJOR (tests/lib.sh).  The extension must be installed
# (tests/lib.sh es_install_extension).
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
es_cluster_start
dir=$(es_results_dir)
rm -rf "$dir/results" "$dir/output_iso" "$dir/regression.diffs" "$dir/regression.out"
echo "# PostgreSQL $(es_pg_version)"
if ! es_make installcheck; then
	for f in "$dir/regression.diffs" "$dir/output_iso/regression.diffs"; do
		[[ -f $f ]] && head -n 200 "$f"
	done
	exit 1
fi
