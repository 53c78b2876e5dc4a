#!/usr/bin/env bash
#
# regress.sh - the extension's pg_regress and isolation suites (REGRESS and
# ISOLATION in the Makefile) against a throwaway wal_level=logical cluster.
# The extension must be installed (tests/lib.sh es_install_extension).
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
es_cluster_start
cd "$ES_ROOT"
rm -rf results output_iso regression.diffs regression.out
if ! make -s PG_CONFIG="$PGBIN/pg_config" installcheck; then
	for f in regression.diffs output_iso/regression.diffs; do
		[[ -f $f ]] && head -n 200 "$f"
	done
	exit 1
fi
