#!/usr/bin/env bash
#
# t_upgrade.sh - updates of the extension.  From every earlier version the
# server offers (the Makefile installs every sql/eventstore--*.sql),
# CREATE EXTENSION eventstore VERSION 'old' and ALTER EXTENSION eventstore
# UPDATE must reach the current version, leave exactly what a fresh CREATE
# EXTENSION leaves (tests/ext_catalog.sql, compared with diff) and pass the
# contract tests (the pg_regress and isolation suites, run on the updated
# databases with pg_regress --use-existing).
#
# The harness also checks itself, every run, on a throwaway older version in
# a private copy of the extension directory ("0.harness": the current version
# plus a leftover function and a column comment the update must remove): the
# right update script must pass, one that forgets the function must fail both
# the comparison and the contract tests (which shows the contract tests ran on
# the updated database, not on a fresh one), one that forgets the comment
# must fail the comparison.
#
# matrix: every PostgreSQL version
set -Eeuo pipefail
# shellcheck disable=SC2034 # read by lib.sh
ES_PRIVATE_MOUNTS=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

es_install_extension
es_private_extension_dir
es_cluster_start
CATALOG_SQL=$ES_ROOT/tests/ext_catalog.sql
catalog() { es_psql -d "$1" -v ext=eventstore <"$CATALOG_SQL"; }

current=$(es_psql -c "SELECT default_version FROM pg_available_extensions WHERE name = 'eventstore'")
es_check "the server offers the extension (current version '$current')" test -n "$current"
shipped=$(cd "$ES_ROOT/sql" && ls eventstore--*.sql | sort)
missing=$(cd "$ES_EXT_DIR" && for f in $shipped; do [[ -f $f ]] || echo "$f"; done)
es_eq "every sql/eventstore--*.sql is installed (Makefile DATA)" "" "$missing"
foreign=$(cd "$ES_EXT_DIR" && ls eventstore--*.sql | sort | comm -13 <(echo "$shipped") -)
[[ -z $foreign ]] || echo "# not from this tree, ignored (another tree's install):" $foreign

es_psql -c "CREATE DATABASE es_fresh"
es_psql -d es_fresh -c "CREATE EXTENSION eventstore"
catalog es_fresh >"$ES_TMP/fresh.catalog"

# upgrade_check FROM [--no-contract]: create at FROM, update, compare, run the
# contract tests.  Sets UPDATED_OK, CATALOG_OK, CONTRACT_OK (1 or 0).
upgrade_check() {
	local from=$1 contract=${2:-} db got
	UPDATED_OK=1 CATALOG_OK=1 CONTRACT_OK=1
	for db in contrib_regression isolation_regression; do
		es_psql -c "SET client_min_messages TO warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
		if ! es_psql -d "$db" -v from="$from" 2>"$ES_TMP/update.err" <<<"
			CREATE EXTENSION eventstore VERSION :'from';
			ALTER EXTENSION eventstore UPDATE;"; then
			echo "# $from: $(head -n 3 "$ES_TMP/update.err")"
			UPDATED_OK=0 CATALOG_OK=0 CONTRACT_OK=0
			return 1
		fi
	done
	got=$(es_psql -d contrib_regression -c "SELECT extversion FROM pg_extension WHERE extname = 'eventstore'")
	[[ $got == "$current" ]] || {
		echo "# $from: ALTER EXTENSION UPDATE left version '$got', not '$current'"
		UPDATED_OK=0
	}
	catalog contrib_regression >"$ES_TMP/from-$from.catalog"
	if ! diff -u "$ES_TMP/fresh.catalog" "$ES_TMP/from-$from.catalog" >"$ES_TMP/from-$from.diff"; then
		echo "# $from -> $current is not what a fresh $current is (- fresh, + updated):"
		grep '^[-+][^-+]' "$ES_TMP/from-$from.diff" | head -n 30 | sed 's/^/#   /'
		CATALOG_OK=0
	fi
	if [[ $contract != --no-contract ]]; then
		if ! es_make installcheck EXTRA_REGRESS_OPTS=--use-existing >"$ES_TMP/contract-$from.log" 2>&1; then
			echo "# contract tests after $from -> $current:"
			grep -E '^not ok|FAILED|failed' "$ES_TMP/contract-$from.log" | head -n 10 | sed 's/^/#   /'
			CONTRACT_OK=0
		fi
	fi
	((UPDATED_OK && CATALOG_OK && CONTRACT_OK))
}

# --- the real history -------------------------------------------------------
# The versions this tree ships: every version named by a script in sql/.
mapfile -t earlier < <(for f in $shipped; do
	f=${f#eventstore--}
	f=${f%.sql}
	printf '%s\n' "${f%%--*}" "${f##*--}"
done | sort -u | grep -vxF -- "$current")
if ((${#earlier[@]} == 0)); then
	echo "# no version earlier than $current is shipped yet: nothing to update from (the harness checks itself below)"
fi
for from in "${earlier[@]}"; do
	es_check "update $from -> $current: same objects as a fresh $current, contract tests pass" upgrade_check "$from"
done

# --- the harness checks itself on a throwaway older version ----------------
old=0.harness
es_check "precondition: a fresh $current has no comment on eventstore.events.data" \
	bash -c "! grep -q '^comment column data of table eventstore.events' '$ES_TMP/fresh.catalog'"
# No full script for $old: PostgreSQL installs it as $current plus this step.
cat >"$ES_EXT_DIR/eventstore--$current--$old.sql" <<'SQL'
-- throwaway older state for t_upgrade.sh: what the update must undo
CREATE FUNCTION eventstore.harness_leftover() RETURNS integer
	LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS 'SELECT 1';
COMMENT ON COLUMN eventstore.events.data IS 'leftover comment';
SQL
update_script() { printf '%s\n' "$@" >"$ES_EXT_DIR/eventstore--$old--$current.sql"; }

update_script "DROP FUNCTION eventstore.harness_leftover();" "COMMENT ON COLUMN eventstore.events.data IS NULL;"
es_check "self-check: a right update script passes" upgrade_check "$old"

update_script "COMMENT ON COLUMN eventstore.events.data IS NULL;"
upgrade_check "$old" || true
es_eq "self-check: an update that leaves a function behind fails the comparison" 0 "$CATALOG_OK"
es_eq "self-check: ... and the contract tests (they ran on the updated database)" 0 "$CONTRACT_OK"
es_check "self-check: the difference names the function" grep -q 'harness_leftover' "$ES_TMP/from-$old.diff"

update_script "DROP FUNCTION eventstore.harness_leftover();"
upgrade_check "$old" --no-contract || true
es_eq "self-check: an update that leaves a column comment behind fails the comparison" 0 "$CATALOG_OK"
es_check "self-check: the difference names the comment" grep -q '^+comment column data of table eventstore.events' "$ES_TMP/from-$old.diff"
es_done
