#!/usr/bin/env bash
#
# regress.sh - the extension's pg_regress and isolation suites (REGRESS and
# ISOLATION in the Makefile) against a throwaway wal_level=logical cluster of
# PostgreSQL $PG_MAJOR (tests/lib.sh).  The extension must be installed
# (tests/lib.sh es_install_extension).
#
#   ES_FLAVOUR=c    (default) CREATE EXTENSION eventstore: the C flavour
#   ES_FLAVOUR=sql  CREATE EXTENSION eventstore VERSION '<version>-sql': the
#                   SQL flavour (sql/sql_flavour/), the same suites with the
#                   same expected output, less the tests of C-only parts
#                   (SQL_SKIP below, printed when skipped)
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Tests of the output plugin, which is C and exists only in the C flavour.
SQL_SKIP=(decode decode_options decode_options_random decode_interleaved)

ES_FLAVOUR=${ES_FLAVOUR:-c}
[[ $ES_FLAVOUR == c || $ES_FLAVOUR == sql ]] || es_die "ES_FLAVOUR must be c or sql, not '$ES_FLAVOUR'"
es_cluster_start
dir=$(es_results_dir)
rm -rf "$dir/results" "$dir/output_iso" "$dir/regression.diffs" "$dir/regression.out"
echo "# PostgreSQL $(es_pg_version), flavour $ES_FLAVOUR"
args=()
if [[ $ES_FLAVOUR == sql ]]; then
	make_var() { make -s --no-print-directory -C "$ES_ROOT" -f Makefile -f <(printf 'print-%%:\n\t@echo $($*)\n') "print-$1"; }
	keep() { # keep TEST...: those not in SQL_SKIP
		local t s
		for t in "$@"; do
			for s in "${SQL_SKIP[@]}"; do [[ $t == "$s" ]] && continue 2; done
			printf '%s ' "$t"
		done
	}
	version=$(sed -nE "s/^default_version = '([^']+)'/\1/p" "$ES_ROOT/eventstore.control")-sql
	regress=$(keep $(make_var REGRESS))
	isolation=$(keep $(make_var ISOLATION))
	echo "ES_FLAVOUR=sql: eventstore $version; skipped (C-only, the output plugin): ${SQL_SKIP[*]}"
	# pg_regress --use-existing keeps these databases, so the flavour is
	# created in them first and --load-extension finds it there.
	for db in contrib_regression isolation_regression; do
		es_psql -c "CREATE DATABASE $db TEMPLATE template0"
		es_psql -d "$db" -c "CREATE EXTENSION eventstore VERSION '$version'"
	done
	args=(REGRESS="$regress" ISOLATION="$isolation" EXTRA_REGRESS_OPTS=--use-existing)
fi
if ! es_make installcheck "${args[@]}"; then
	for f in "$dir/regression.diffs" "$dir/output_iso/regression.diffs"; do
		[[ -f $f ]] && head -n 200 "$f"
	done
	exit 1
fi
