#!/usr/bin/env bash
#
# t_sql_flavour.sh - the SQL flavour installed as a managed-PostgreSQL user
# installs it (README "Managed PostgreSQL"):
#   1. the committed SQL flavour files are what scripts/gen-sql-flavour.sh
#      generates; the script the pg_tle file registers is the SQL flavour's
#      extension script, and the plain script is the same text;
#   2. on a server without the C flavour (a private copy of this PostgreSQL
#      installation with eventstore's files removed, as on RDS), as an admin
#      that is not a superuser (CREATEROLE, member of pgtle_admin, like the
#      RDS master user): the pg_tle script registers the extension (with real
#      pg_tle when it is installed or PGTLE_ROOT points at a DESTDIR install
#      of it, else with tests/pgtle_standin), CREATE EXTENSION eventstore and
#      a writer's append, retry and load work; running the script again is
#      harmless;
#   3. the plain script does the same in another database, refuses to run
#      twice and then changes nothing; both installations have exactly the C
#      flavour's objects (tests/sql_flavour_fingerprint.sql);
#   4. eventstore.max_event_size in the SQL flavour: the default, a
#      session's SET, ALTER DATABASE SET (a non-superuser needs GRANT SET ON
#      PARAMETER), and a pin on append() that a writer cannot override;
#   5. pg_dump of the pg_tle database restores on a server with the C
#      flavour, which then answers for the same rows (a retry included).
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ES_ROOT"
es_tmpdir >/dev/null
FP=tests/sql_flavour_fingerprint.sql
HOST_PGBIN=$PGBIN
VERSION=$(sed -nE "s/^default_version = '([^']+)'/\1/p" eventstore.control)

# --- 1. one source of truth ------------------------------------------------
es_check "generated SQL flavour files are up to date" bash scripts/gen-sql-flavour.sh --check
sed -e 1d -e '/^-- complain if script is sourced in psql/d' -e '/^\\echo Use /d' \
	"sql/eventstore--$VERSION-sql.sql" >"$ES_TMP/body.sql"
python3 - "$VERSION" sql/managed/eventstore-pgtle.sql >"$ES_TMP/pgtle-body.sql" <<'PY'
import sys
text = open(sys.argv[2], encoding="utf-8").read()
start = "INSERT INTO eventstore_pgtle VALUES ('%s', $_pgtle_$" % sys.argv[1]
i = text.index(start) + len(start)
sys.stdout.write(text[i:text.index("$_pgtle_$);", i)])
PY
es_check "the pg_tle script registers the SQL flavour's extension script, byte for byte" \
	cmp -s "$ES_TMP/body.sql" "$ES_TMP/pgtle-body.sql"
{
	printf '\\set ON_ERROR_STOP on\nBEGIN;\nCREATE SCHEMA eventstore;\n'
	sed -e '/^-- Dumped with pg_dump like user data\.$/d' -e '/^SELECT pg_catalog\.pg_extension_config_dump(/d' "$ES_TMP/body.sql"
	echo "COMMIT;"
} >"$ES_TMP/plain-expected.sql"
awk 'started { print } /^\\set ON_ERROR_STOP on$/ { started = 1; print }' sql/managed/eventstore-plain.sql >"$ES_TMP/plain-actual.sql"
es_check "the plain script is that script in one transaction, less pg_extension_config_dump()" \
	cmp -s "$ES_TMP/plain-expected.sql" "$ES_TMP/plain-actual.sql"
es_eq "the extension script replaces only append(): C flavour objects otherwise" 1 \
	"$(grep -c '^CREATE FUNCTION eventstore.append(' "$ES_TMP/body.sql")"

# --- the C flavour's objects, for comparison (a cluster of its own) ---------
(
	unset ES_TMP
	ES_CLEANUP=()
	trap es_run_cleanup EXIT
	es_cluster_start >/dev/null
	es_psql -c "CREATE EXTENSION eventstore" >/dev/null
	es_psql -f "$FP"
) >"$ES_TMP/c.fp"
es_check "the C flavour's fingerprint lists its objects" test "$(grep -c -e '^column ' -e '^function ' -e '^trigger ' "$ES_TMP/c.fp")" -ge 20

# --- 2. a server without C, with pg_tle -------------------------------------
bindir=$("$PGBIN/pg_config" --bindir)
sharedir=$("$PGBIN/pg_config" --sharedir)
pkglibdir=$("$PGBIN/pg_config" --pkglibdir)
R=$ES_TMP/managed-root
for d in "$bindir" "$sharedir" "$pkglibdir"; do
	mkdir -p "$R$(dirname "$d")"
	cp -a "$d" "$R$(dirname "$d")/"
done
rm -f "$R$sharedir"/extension/eventstore[.-]* "$R$pkglibdir"/eventstore.so
PGTLE_ROOT=${PGTLE_ROOT:-}
if [[ -z $PGTLE_ROOT && -f $sharedir/extension/pg_tle.control && -f $pkglibdir/pg_tle.so ]]; then
	PGTLE_ROOT=/ # installed on this machine: already copied
fi
if [[ -n $PGTLE_ROOT ]]; then
	PGTLE=real
	if [[ $PGTLE_ROOT != / ]]; then
		cp "$PGTLE_ROOT$sharedir"/extension/pg_tle* "$R$sharedir/extension/"
		cp "$PGTLE_ROOT$pkglibdir"/pg_tle.so "$R$pkglibdir/"
	fi
	conf=("shared_preload_libraries = 'pg_tle'")
else
	PGTLE=stand-in
	cp tests/pgtle_standin/pg_tle.control tests/pgtle_standin/pg_tle--standin.sql "$R$sharedir/extension/"
	[[ $EUID -eq 0 ]] && chown "$ES_PG_OS_USER" "$R$sharedir/extension"
	conf=()
fi
echo "# pg_tle: $PGTLE"
PGBIN=$R$bindir
es_check "the private installation has no C flavour" test ! -e "$R$sharedir/extension/eventstore.control"
es_cluster_start "${conf[@]}" >/dev/null
es_psql -c "CREATE ROLE admin LOGIN CREATEROLE CREATEDB" -c "CREATE DATABASE app OWNER admin" \
	-c "CREATE DATABASE plain OWNER admin" >/dev/null
es_psql -d app -c "CREATE EXTENSION pg_tle" -c "GRANT pgtle_admin TO admin" >/dev/null
es_eq "the server really is the private copy" "$R$sharedir" \
	"$(es_psql -d app -c "SELECT setting FROM pg_config() WHERE name = 'SHAREDIR'")"

admin() { es_psql -U admin -d "${DB:-app}" "$@"; }
writer() { es_psql -U writer -d "${DB:-app}" "$@"; }
out=$(admin -f sql/managed/eventstore-pgtle.sql 2>&1) || {
	echo "$out"
	es_die "registering with pg_tle failed"
}
es_check "pg_tle lists eventstore $VERSION" test "$(admin -c "SELECT version FROM pgtle.available_extension_versions() WHERE name = 'eventstore'")" = "$VERSION"
if [[ $PGTLE == real ]]; then
	registered=$(es_psql -d app -c "SELECT md5(pgtle.\"eventstore--$VERSION.sql\"())")
else
	registered=$(es_psql -d app -c "SELECT md5(script) FROM pgtle.standin_versions WHERE name = 'eventstore'")
fi
# pg_tle before 1.5.0 has no schema argument: the script then creates the schema itself
if [[ $(es_psql -d app -c "SELECT count(*) FROM pg_proc WHERE proname = 'install_extension' AND pronamespace = 'pgtle'::regnamespace AND pronargs = 6") == 0 ]]; then
	echo "# pg_tle without install_extension's schema argument"
	{ printf 'CREATE SCHEMA eventstore;'; cat "$ES_TMP/body.sql"; } >"$ES_TMP/registered-expected.sql"
else
	cp "$ES_TMP/body.sql" "$ES_TMP/registered-expected.sql"
fi
es_eq "pg_tle holds exactly the SQL flavour's extension script" "$(md5sum <"$ES_TMP/registered-expected.sql" | cut -d' ' -f1)" "$registered"
admin -c "CREATE EXTENSION eventstore" >/dev/null
es_eq "CREATE EXTENSION eventstore as a non-superuser: SQL flavour, owned by admin" \
	"$VERSION|admin|plpgsql" \
	"$(admin -c "SELECT e.extversion, e.extowner::regrole, l.lanname FROM pg_extension e, pg_proc p JOIN pg_language l ON l.oid = p.prolang
				  WHERE e.extname = 'eventstore' AND p.oid = 'eventstore.append(uuid, text, bigint, jsonb)'::regprocedure")"
es_eq "registering again is harmless" "eventstore $VERSION is already registered with pg_tle" \
	"$(admin -f sql/managed/eventstore-pgtle.sql 2>&1 | tail -n 1)"
es_check "ALTER EXTENSION eventstore UPDATE works (nothing newer yet)" admin -c "SET client_min_messages = warning" -c "ALTER EXTENSION eventstore UPDATE"

admin -c "CREATE ROLE writer LOGIN IN ROLE eventstore_writer" >/dev/null
smoke() { # smoke DB: a writer appends, retries and loads
	local batch='[{"type": "CartOpened", "id": "5a000000-0000-0000-0000-000000000001"}, {"type": "ItemAdded", "data": {"sku": "A"}, "id": "5a000000-0000-0000-0000-000000000002"}]'
	es_eq "$1: writer appends" 2 "$(DB=$1 writer -c "SELECT eventstore.append('5a000000-0000-0000-0000-0000000000aa', 'cart', 0, '$batch')")"
	es_eq "$1: the retry stores nothing and answers the same" "2|2" \
		"$(DB=$1 writer -c "SELECT eventstore.append('5a000000-0000-0000-0000-0000000000aa', 'cart', 0, '$batch'), (SELECT count(*) FROM eventstore.events)")"
	es_eq "$1: writer loads" "1|CartOpened,2|ItemAdded" \
		"$(DB=$1 writer -c "SELECT string_agg(version || '|' || type, ',' ORDER BY version) FROM eventstore.load('5a000000-0000-0000-0000-0000000000aa')")"
	local msg
	msg=$(DB=$1 writer -v VERBOSITY=verbose -c "SELECT eventstore.append('5a000000-0000-0000-0000-0000000000aa', 'cart', 1, '[{\"type\": \"X\"}]')" 2>&1 || true)
	es_eq "$1: VE001 with its message" \
		"ERROR:  VE001: wrong expected version for aggregate 5a000000-0000-0000-0000-0000000000aa: expected 1, actual 2" \
		"$(head -n 1 <<<"$msg")"
	msg=$(DB=$1 writer -c "DELETE FROM eventstore.events" 2>&1 || true)
	es_eq "$1: writers cannot change the table directly" "ERROR:  permission denied for table events" "$msg"
}
smoke app
es_psql -d app -f "$FP" >"$ES_TMP/pgtle.fp"
es_check "pg_tle installation: the C flavour's objects (but append's body)" cmp -s "$ES_TMP/c.fp" "$ES_TMP/pgtle.fp" ||
	diff "$ES_TMP/c.fp" "$ES_TMP/pgtle.fp" | head -n 20

# --- 3. the plain script ----------------------------------------------------
es_check "plain script as admin" bash -c "'$PGBIN/psql' -X -q -U admin -d plain -f sql/managed/eventstore-plain.sql >/dev/null"
smoke plain
es_psql -d plain -f "$FP" >"$ES_TMP/plain.fp"
es_check "plain installation: the C flavour's objects (but append's body)" cmp -s "$ES_TMP/c.fp" "$ES_TMP/plain.fp" ||
	diff "$ES_TMP/c.fp" "$ES_TMP/plain.fp" | head -n 20
again=$(DB=plain admin -f sql/managed/eventstore-plain.sql 2>&1) && es_not_ok "the plain script runs twice" ||
	es_eq "the plain script refuses to run twice" 'schema "eventstore" already exists' "$(grep -o 'schema "eventstore" already exists' <<<"$again")"
es_psql -d plain -f "$FP" >"$ES_TMP/plain2.fp"
es_check "... and changed nothing" cmp -s "$ES_TMP/plain.fp" "$ES_TMP/plain2.fp"
es_eq "... nor the events" 2 "$(DB=plain writer -c "SELECT count(*) FROM eventstore.events")"

# --- 4. eventstore.max_event_size without the C library -----------------------
big() { # big BYTES-OF-DATA [SET...]: append one event, print the outcome
	local set=${2:-}
	writer -c "$set" -c "SELECT public.try(format('SELECT eventstore.append(gen_random_uuid(), %L, NULL, %L)', 'blob',
		jsonb_build_array(jsonb_build_object('type', 'Blob', 'data', repeat('x', $1)))))" | tail -n 1
}
admin -c "CREATE FUNCTION public.try(stmt text) RETURNS text LANGUAGE plpgsql AS \$\$
	BEGIN EXECUTE stmt; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END \$\$" >/dev/null
es_eq "default limit 1 MB" "VE006: event 1 of the batch is too large: 1048577 bytes of JSON, the limit is 1048576 bytes" "$(big 1048569)"
es_eq "a session may raise it (a placeholder setting: why the pin below exists)" ok "$(big 1048567 "SET eventstore.max_event_size = '2MB'")"
es_eq "an invalid value is refused with the C setting's message" \
	'22023: invalid value for parameter "eventstore.max_event_size": "lots"' "$(big 10 "SET eventstore.max_event_size = 'lots'")"
es_eq "an out-of-range value is refused" \
	'22023: 1 B is outside the valid range for parameter "eventstore.max_event_size" (64 .. 268435455)' "$(big 10 "SET eventstore.max_event_size = 1")"
denied=$(admin -c "ALTER DATABASE app SET eventstore.max_event_size = '2kB'" 2>&1 || true)
es_eq "ALTER DATABASE SET needs superuser or SET privilege on the parameter" \
	'ERROR:  permission denied to set parameter "eventstore.max_event_size"' "$denied"
es_psql -c "GRANT SET ON PARAMETER eventstore.max_event_size TO admin" >/dev/null
admin -c "ALTER DATABASE app SET eventstore.max_event_size = '2kB'"
es_eq "ALTER DATABASE SET applies to new sessions" "VE006: event 1 of the batch is too large: 3008 bytes of JSON, the limit is 2048 bytes" "$(big 3000)"
admin -c "ALTER FUNCTION eventstore.append(uuid, text, bigint, jsonb) SET eventstore.max_event_size = '1kB'"
es_eq "pinned on append(), a writer's SET does not count" \
	"VE006: event 1 of the batch is too large: 1508 bytes of JSON, the limit is 1024 bytes" \
	"$(big 1500 "SET eventstore.max_event_size = '1MB'")"

# --- 5. moving the data to the C flavour: pg_dump of the pg_tle database -----
n=$(es_psql -d app -c "SELECT count(*) || '/' || (SELECT count(*) FROM eventstore.aggregates) FROM eventstore.events")
"$PGBIN/pg_dump" -d app --extension=eventstore --exclude-schema=pgtle --no-owner --no-privileges -f "$ES_TMP/app.sql"
es_check "the dump creates the extension by name" grep -q '^CREATE EXTENSION IF NOT EXISTS eventstore WITH SCHEMA eventstore;$' "$ES_TMP/app.sql"
dump=$ES_TMP/app.sql
moved=$(
	unset ES_TMP
	ES_CLEANUP=()
	trap es_run_cleanup EXIT
	PGBIN=$HOST_PGBIN
	es_cluster_start >/dev/null
	es_psql -q -f "$dump" >/dev/null
	es_psql -c "SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.oid = 'eventstore.append(uuid, text, bigint, jsonb)'::regprocedure"
	es_psql -c "SELECT count(*) || '/' || (SELECT count(*) FROM eventstore.aggregates) FROM eventstore.events"
	es_psql -c "SELECT eventstore.append('5a000000-0000-0000-0000-0000000000aa', 'cart', 0, '[{\"type\": \"CartOpened\", \"id\": \"5a000000-0000-0000-0000-000000000001\"}, {\"type\": \"ItemAdded\", \"data\": {\"sku\": \"A\"}, \"id\": \"5a000000-0000-0000-0000-000000000002\"}]')"
)
es_eq "restored on a server with the C flavour: C answers for the same rows, and takes the retry" \
	"c|$n|2" "$(tr '\n' '|' <<<"$moved" | sed 's/|$//')"
es_done
