#!/usr/bin/env bash
#
# t_append_concurrency.sh - many clients appending at once: first appends to
# the same new aggregates race (expected version NULL must never fail), and
# every aggregate ends with gapless versions 1..N and as many events as
# appends reported.  Once for each flavour (C, and the SQL flavour of
# sql/sql_flavour/), each in a database of its own.
#
# matrix: every PostgreSQL version
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
es_install_extension
es_cluster_start
VERSION=$(sed -nE "s/^default_version = '([^']+)'/\1/p" "$ES_ROOT/eventstore.control")
for flavour in c sql; do
export PGDATABASE=$flavour
es_psql -d postgres -c "CREATE DATABASE $flavour"
if [[ $flavour == sql ]]; then
	es_psql -c "CREATE EXTENSION eventstore VERSION '$VERSION-sql'"
else
	es_psql -c "CREATE EXTENSION eventstore"
fi
echo "# $flavour flavour"

# 4 clients x 1500 appends over 300 aggregates: most first appends race.
cat >"$ES_TMP/any.sql" <<'SQL'
\set a random(1, 300)
SELECT eventstore.append(md5('race-' || :a)::uuid, 'cart', NULL, '[{"type": "ItemAdded"}, {"type": "ItemAdded"}]');
SQL
if "$PGBIN/pgbench" -n -c 4 -j 4 -t 1500 -f "$ES_TMP/any.sql" "$flavour" >"$ES_TMP/any.log" 2>&1; then
	es_ok "$flavour: 6000 concurrent appends with expected version NULL: no error"
else
	grep -m 5 -i error "$ES_TMP/any.log" || tail -n 5 "$ES_TMP/any.log"
	es_not_ok "$flavour: 6000 concurrent appends with expected version NULL: no error"
fi
es_eq "$flavour: 12000 events stored" 12000 "$(es_psql -c "SELECT count(*) FROM eventstore.events")"
es_eq "$flavour: versions gapless per aggregate, and equal to the aggregate's version" 0 "$(es_psql -c "
	SELECT count(*) FROM (SELECT e.aggregate_id, count(*) AS n, max(e.version) AS mx, a.version
	                        FROM eventstore.events e JOIN eventstore.aggregates a USING (aggregate_id)
	                       GROUP BY e.aggregate_id, a.version) s
	 WHERE n <> mx OR mx <> version")"

# Optimistic writers: read the version, append at it; a lost race is VE001 and
# nothing else.  Count winners: every stored event belongs to a winner.
cat >"$ES_TMP/exact.sql" <<'SQL'
\set a random(1, 20)
SELECT eventstore.version(md5('opt-' || :a)::uuid) AS v \gset
SELECT eventstore.append(md5('opt-' || :a)::uuid, 'cart', :v, '[{"type": "ItemAdded"}]');
SQL
"$PGBIN/pgbench" -n -c 4 -j 4 -t 500 --max-tries=1 -f "$ES_TMP/exact.sql" "$flavour" >"$ES_TMP/exact.log" 2>&1 || true
grep -i error "$ES_TMP/exact.log" | grep -v -e "wrong expected version" -e "Run was aborted" | head -n 3 || true
bad=$(grep -i "error" "$ES_TMP/exact.log" | grep -v -c -e "wrong expected version" -e "Run was aborted" || true)
es_eq "$flavour: lost races fail only with 'wrong expected version'" 0 "$bad"
es_eq "$flavour: optimistic aggregates gapless" 0 "$(es_psql -c "
	SELECT count(*) FROM (SELECT aggregate_id, count(*) AS n, max(version) AS mx FROM eventstore.events
	                       WHERE aggregate_type = 'cart' GROUP BY 1) s WHERE n <> mx")"
done
es_done
