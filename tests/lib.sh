# shellcheck shell=bash
#
# tests/lib.sh - shared helpers for the project's scripts: a throwaway
# PostgreSQL cluster (initdb in a temp dir, wal_level=logical, a unix socket in
# that dir plus 127.0.0.1 on a free port), free ports, and cleanup.
#
# Source it, then:
#   es_cluster_start            # exports PGHOST PGPORT PGUSER PGDATABASE ES_PGDATA ES_TMP
#   psql -c 'CREATE EXTENSION eventstore'
#   ... (cleanup runs on exit: es_on_exit CMD adds more cleanup commands)
#
# The server refuses to run as root, so when started as root it runs as the
# 'postgres' OS user (ES_PG_OS_USER).  PG_MAJOR picks the server (default 15).

ES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}
PGBIN=${PGBIN:-/usr/lib/postgresql/$PG_MAJOR/bin}
ES_PG_OS_USER=${ES_PG_OS_USER:-postgres}
export PGBIN

es_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
es_die() {
	es_log "error: $*"
	exit 1
}

# --- cleanup stack ---------------------------------------------------------
ES_CLEANUP=()
es_on_exit() { ES_CLEANUP+=("$*"); }
es_run_cleanup() {
	local rc=$? i
	set +e
	for ((i = ${#ES_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${ES_CLEANUP[$i]}" >/dev/null 2>&1
	done
	ES_CLEANUP=()
	return $rc
}
trap es_run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# es_as_pg CMD...: run a server-side program as the cluster's OS user.
es_as_pg() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u "$ES_PG_OS_USER" -- "$@"
	else
		"$@"
	fi
}

# es_free_port: print a TCP port on 127.0.0.1 that nothing listens on.
es_free_port() {
	python3 - <<'PY' 2>/dev/null || { echo $((20000 + RANDOM % 20000)); }
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# es_wait_port PORT [SECONDS]: wait until something accepts on 127.0.0.1:PORT.
es_wait_port() {
	local port=$1 secs=${2:-20} i
	for ((i = 0; i < secs * 10; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

# es_tmpdir: make (once) and print a private scratch dir removed at exit.
es_tmpdir() {
	if [[ -z ${ES_TMP:-} ]]; then
		ES_TMP=$(mktemp -d "${TMPDIR:-/tmp}/eventstore-test.XXXXXX")
		chmod 755 "$ES_TMP"
		export ES_TMP
		es_on_exit "rm -rf '$ES_TMP'"
	fi
	echo "$ES_TMP"
}

# es_pg_has_setting NAME: does this server binary know the setting NAME?
es_pg_has_setting() {
	"$PGBIN/postgres" --describe-config 2>/dev/null | cut -f1 | grep -x "$1" >/dev/null
}

# es_cluster_start [extra postgresql.conf lines...]
es_cluster_start() {
	local tmp
	es_tmpdir >/dev/null
	tmp=$ES_TMP
	[[ -x $PGBIN/initdb ]] || es_die "$PGBIN/initdb not found (scripts/deps.sh pg)"
	ES_PGDATA=$tmp/pgdata
	ES_PGSOCK=$tmp/sock
	mkdir -p "$ES_PGSOCK"
	[[ $EUID -eq 0 ]] && chown "$ES_PG_OS_USER:" "$ES_PGSOCK" "$tmp"
	es_as_pg "$PGBIN/initdb" -D "$ES_PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
		>"$tmp/initdb.log" 2>&1 || {
		cat "$tmp/initdb.log" >&2
		es_die "initdb failed"
	}
	PGPORT=$(es_free_port)
	{
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $PGPORT"
		echo "unix_socket_directories = '$ES_PGSOCK'"
		echo "wal_level = logical"
		echo "max_replication_slots = 20"
		echo "max_wal_senders = 20"
		echo "fsync = off"
		echo "shared_buffers = 128MB"
		echo "log_min_messages = warning"
		echo "log_line_prefix = '%m [%p] %q%a '"
		echo "timezone = 'UTC'"
		# Newer minor releases only load output plugins that are listed.
		if es_pg_has_setting output_plugin_libraries; then
			echo "output_plugin_libraries = 'pgoutput, test_decoding, eventstore, wal2json'"
		fi
		local line
		for line in "$@"; do echo "$line"; done
	} >>"$ES_PGDATA/postgresql.conf"
	# Replication connections over the socket and loopback, trusted: the
	# cluster lives in a private dir and only for this test.
	{
		echo "local replication all trust"
		echo "host replication all 127.0.0.1/32 trust"
	} >>"$ES_PGDATA/pg_hba.conf"
	es_as_pg "$PGBIN/pg_ctl" -D "$ES_PGDATA" -l "$tmp/server.log" -w -t 60 start >/dev/null ||
		{
			tail -n 30 "$tmp/server.log" >&2
			es_die "could not start PostgreSQL"
		}
	es_on_exit "es_as_pg '$PGBIN/pg_ctl' -D '$ES_PGDATA' -m immediate -w stop"
	export PGHOST=$ES_PGSOCK PGPORT PGUSER=postgres PGDATABASE=postgres ES_PGDATA ES_PGSOCK
	export ES_PGLOG=$tmp/server.log
}

es_cluster_restart() {
	es_as_pg "$PGBIN/pg_ctl" -D "$ES_PGDATA" -l "$ES_PGLOG" -m fast -w -t 60 restart >/dev/null
}

# es_psql ARGS...: psql that stops at the first error and prints bare tuples.
es_psql() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# es_install_extension: build and install the extension into $PGBIN's server
# (system directories, so root or sudo).
es_install_extension() {
	local sudo=()
	[[ $EUID -ne 0 ]] && sudo=(sudo)
	make -C "$ES_ROOT" -s PG_CONFIG="$PGBIN/pg_config" >/dev/null || es_die "building the extension failed"
	"${sudo[@]}" make -C "$ES_ROOT" -s PG_CONFIG="$PGBIN/pg_config" install >/dev/null ||
		es_die "installing the extension failed"
}

# --- tiny assertion helpers for shell tests ---------------------------------
ES_PASS=0
ES_FAIL=0
es_ok() {
	ES_PASS=$((ES_PASS + 1))
	printf 'ok - %s\n' "$*"
}
es_not_ok() {
	ES_FAIL=$((ES_FAIL + 1))
	printf 'not ok - %s\n' "$*"
}
# es_check "description" COMMAND...: pass if the command succeeds.
es_check() {
	local d=$1
	shift
	if "$@"; then es_ok "$d"; else es_not_ok "$d"; fi
}
# es_eq "description" EXPECTED ACTUAL
es_eq() {
	if [[ $2 == "$3" ]]; then es_ok "$1"; else es_not_ok "$1 (expected '$2', got '$3')"; fi
}
# es_done: print the closing line and exit non-zero on any failure.
es_done() {
	echo "$ES_PASS passed, $ES_FAIL failed"
	((ES_FAIL == 0))
}
