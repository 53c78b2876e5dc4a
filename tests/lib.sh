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
# 'postgres' OS user (ES_PG_OS_USER).
#
# PG_MAJOR picks the server (default 15).  The machine's own
# /usr/lib/postgresql/$PG_MAJOR is used when it exists; otherwise the Debian
# root scripts/pg_root.sh makes (17, 18).  Then the sourcing script runs again
# in a private mount namespace, the server runs chrooted in a private overlay
# of that root (so the cached root is never written to and installs from other
# trees never meet), $ES_TMP and the extension's build directory appear at the
# same paths inside, and $PGBIN holds wrappers that run the root's programs:
# "$PGBIN/psql", es_as_pg, es_make and es_install_extension work alike for
# every version, and host programs (the relay) reach the server through the
# socket in $ES_TMP or 127.0.0.1.  ES_PRIVATE_MOUNTS=1 (set before sourcing)
# gives a script the private mount namespace for the machine's server too
# (es_private_extension_dir).

ES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}
ES_PG_OS_USER=${ES_PG_OS_USER:-postgres}
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
	ES_EXIT_RC=$rc
	if [[ ${ES_KEEP_FAILED:-} == 1 && $rc != 0 && " ${ES_CLEANUP[*]} " == *" es_rm_tmp "* ]]; then
		es_log "failed (exit $rc): kept $ES_TMP for inspection"
	fi
	for ((i = ${#ES_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${ES_CLEANUP[$i]}" >/dev/null 2>&1
	done
	ES_CLEANUP=()
	return $rc
}
trap es_run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

# es_rm_tmp: remove $ES_TMP at exit; ES_KEEP_FAILED=1 keeps it (server
# logs, relay logs) when the script failed.
es_rm_tmp() {
	[[ ${ES_KEEP_FAILED:-} == 1 && ${ES_EXIT_RC:-0} != 0 ]] && return 0
	# --one-file-system: never into a root's overlay or its mounts.
	rm -rf --one-file-system "$ES_TMP"
}

# es_tmpdir: make (once) and print a private scratch dir removed at exit.
es_tmpdir() {
	if [[ -z ${ES_TMP:-} ]]; then
		ES_TMP=$(mktemp -d "${TMPDIR:-/tmp}/eventstore-test.XXXXXX")
		chmod 755 "$ES_TMP"
		export ES_TMP
		es_on_exit es_rm_tmp
	fi
	echo "$ES_TMP"
}

# --- which server: the machine's, or a Debian root ---------------------------
ES_PG_CHROOT=${ES_PG_CHROOT:-}

# es_pg_chroot_run [--as-pg] CMD...: run CMD inside the root, in the same
# working directory when it exists there.
es_pg_chroot_run() {
	local user=()
	if [[ ${1-} == --as-pg ]]; then
		user=(runuser -u "$ES_PG_OS_USER" --)
		shift
	fi
	chroot "$ES_PG_CHROOT" "${user[@]}" /bin/sh -c 'cd "$0" 2>/dev/null || cd /; exec "$@"' "$PWD" "$@"
}

# es_pg_root_enter: (in the private mount namespace) the root's overlay and
# mounts, the wrappers in $PGBIN, the extension installed as last built.
es_pg_root_enter() {
	local lower=$ES_PG_ROOT_LOWER tmp m f name
	exec {ES_PG_ROOT_LOCKFD}>>"$lower.lock"
	flock -s "$ES_PG_ROOT_LOCKFD"
	es_tmpdir >/dev/null
	tmp=$ES_TMP
	m=$tmp/root-$PG_MAJOR
	mkdir -p "$m" "$tmp/.overlay-$PG_MAJOR/upper" "$tmp/.overlay-$PG_MAJOR/work"
	mount -t overlay overlay -o "lowerdir=$lower,upperdir=$tmp/.overlay-$PG_MAJOR/upper,workdir=$tmp/.overlay-$PG_MAJOR/work" "$m" ||
		es_die "could not mount an overlay of $lower"
	es_on_exit "umount -R -l '$m'"
	mount -t proc proc "$m/proc"
	mkdir -p "$m/dev/shm"
	mount -t tmpfs -o mode=1777 tmpfs "$m/dev/shm"
	ES_BUILD=$ES_ROOT/build/pg$PG_MAJOR
	mkdir -p "$ES_BUILD" "$m$tmp" "$m$ES_BUILD"
	mount --bind "$tmp" "$m$tmp"
	mount --bind "$ES_BUILD" "$m$ES_BUILD"
	ES_PG_CHROOT=$m
	[[ -d $ES_BUILD/stage ]] && cp -a "$ES_BUILD/stage/." "$m/"
	mkdir -p "$tmp/pgbin-$PG_MAJOR"
	for f in "$m/usr/lib/postgresql/$PG_MAJOR/bin/"*; do
		name=${f##*/}
		# Inside the root (es_as_pg) the wrapper runs the program itself.
		cat >"$tmp/pgbin-$PG_MAJOR/$name" <<-SH
			#!/bin/sh
			# PostgreSQL $PG_MAJOR's $name, in the root $m
			if [ -f /.eventstore-root ]; then exec /usr/lib/postgresql/$PG_MAJOR/bin/$name "\$@"; fi
			exec chroot "$m" /bin/sh -c 'cd "\$0" 2>/dev/null || cd /; exec "\$@"' "\$PWD" /usr/lib/postgresql/$PG_MAJOR/bin/$name "\$@"
		SH
		chmod 755 "$tmp/pgbin-$PG_MAJOR/$name"
	done
	PGBIN=$tmp/pgbin-$PG_MAJOR
	export PGBIN ES_PG_CHROOT ES_BUILD
}

# es_reexec_private ARGS...: run the sourcing script (or bash -c string)
# again, with ARGS, in a private mount namespace: its mounts are its own and
# vanish with its last process.
es_reexec_private() {
	if [[ -n ${BASH_EXECUTION_STRING:-} ]]; then
		exec unshare --mount --propagation private -- "$BASH" -c "$BASH_EXECUTION_STRING" "$0" "$@"
	fi
	exec unshare --mount --propagation private -- "$BASH" "$0" "$@"
}

# es_pgbin_major DIR: the major version of the PostgreSQL programs in DIR.
es_pgbin_major() { "$1/pg_config" --version 2>/dev/null | sed -E 's/^PostgreSQL ([0-9]+).*/\1/'; }

# A PGBIN inherited from a script of another version is not ours.
if [[ -n ${PGBIN:-} && ${ES_PG_CHROOT_MAJOR:-} != "$PG_MAJOR" && $(es_pgbin_major "$PGBIN") != "$PG_MAJOR" ]]; then
	unset PGBIN
fi
if [[ -n $ES_PG_CHROOT && ${ES_PG_CHROOT_MAJOR:-} == "$PG_MAJOR" ]]; then
	: # a script started by one that entered the root: same namespace, same root
elif [[ ! -x /usr/lib/postgresql/$PG_MAJOR/bin/initdb && -z ${PGBIN:-} ]] || [[ -n ${ES_PG_ROOT_LOWER:-} ]]; then
	if [[ -z ${ES_PG_ROOT_LOWER:-} ]]; then
		ES_PG_CHROOT=
		[[ $EUID -eq 0 ]] || es_die "PostgreSQL $PG_MAJOR runs in a Debian root here, which needs root (chroot, mount)"
		ES_PG_ROOT_LOWER=$(bash "$ES_ROOT/scripts/pg_root.sh" "$PG_MAJOR") ||
			es_die "no PostgreSQL $PG_MAJOR: not installed here and its Debian root could not be made (scripts/pg_root.sh $PG_MAJOR)"
		export ES_PG_ROOT_LOWER PG_MAJOR
		es_reexec_private "$@"
	fi
	es_pg_root_enter
	ES_PG_ROOT_LOWER_DIR=$ES_PG_ROOT_LOWER
	export ES_PG_ROOT_LOWER_DIR
	unset ES_PG_ROOT_LOWER
	ES_PG_CHROOT_MAJOR=$PG_MAJOR
	export ES_PG_CHROOT_MAJOR
else
	if [[ ${ES_PRIVATE_MOUNTS:-} == 1 && -z ${ES_PRIVATE_NS:-} ]]; then
		export ES_PRIVATE_NS=1
		es_reexec_private "$@"
	fi
	ES_PG_CHROOT=
	PGBIN=${PGBIN:-/usr/lib/postgresql/$PG_MAJOR/bin}
fi
export PGBIN

# es_as_pg CMD...: run a server-side program as the cluster's OS user.
es_as_pg() {
	if [[ -n $ES_PG_CHROOT ]]; then
		es_pg_chroot_run --as-pg "$@"
	elif [[ $EUID -eq 0 ]]; then
		runuser -u "$ES_PG_OS_USER" -- "$@"
	else
		"$@"
	fi
}

# es_chown_pg PATH...: give PATHs to the cluster's OS user (its uid in the root).
es_chown_pg() {
	[[ $EUID -eq 0 ]] || return 0
	if [[ -n $ES_PG_CHROOT ]]; then
		es_pg_chroot_run chown "$ES_PG_OS_USER:" "$@"
	else
		chown "$ES_PG_OS_USER:" "$@"
	fi
}

# es_pg_version: the server's version string, e.g. "17.6 (Debian 17.6-1)".
es_pg_version() { "$PGBIN/pg_config" --version | sed 's/^PostgreSQL //'; }

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
	es_chown_pg "$ES_PGSOCK" "$tmp"
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
	es_log "PostgreSQL $(es_pg_version) on 127.0.0.1:$PGPORT and $ES_PGSOCK${ES_PG_CHROOT:+ (in a private overlay of $ES_PG_ROOT_LOWER_DIR)}"
}

es_cluster_restart() {
	es_as_pg "$PGBIN/pg_ctl" -D "$ES_PGDATA" -l "$ES_PGLOG" -m fast -w -t 60 restart >/dev/null
}

# es_psql ARGS...: psql that stops at the first error and prints bare tuples.
es_psql() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# es_ext_sources: tar (to stdout) of what building and testing the extension
# reads: the tree as git sees it (ignored files left out), without the relay,
# the scripts, the shell tests and the deployment.
es_ext_sources() {
	local skip='^(relay|bench|docs|terraform|docker|tests|scripts|build|\.ci)/'
	if git -C "$ES_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$ES_ROOT" && git ls-files -co --exclude-standard | grep -Ev "$skip" | sort |
			while IFS= read -r f; do [[ -e $f ]] && printf '%s\n' "$f"; done |
			tar --no-recursion -c -T -)
	else
		tar -C "$ES_ROOT" --sort=name -c --exclude=./.git --exclude=./build --exclude=./relay \
			--exclude=./bench --exclude=./docs --exclude=./terraform --exclude=./docker \
			--exclude=./tests --exclude=./scripts --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
			--exclude=./results --exclude=./output_iso --exclude=./log --exclude=./tmp_check \
			--exclude='*.ndjson' --exclude=./regression.diffs --exclude=./regression.out .
	fi
}

# es_install_extension: build and install the extension into $PGBIN's server
# (system directories, so root or sudo).  For a root: built inside it from a
# copy of the sources in build/pgN/src (again only when the sources changed),
# installed into build/pgN/stage, which every later script's overlay gets.
es_install_extension() {
	local sudo=()
	if [[ -n $ES_PG_CHROOT ]]; then
		local sum
		sum=$(es_ext_sources | sha256sum | cut -d' ' -f1)
		if [[ ! -f $ES_BUILD/stage.sum || $(cat "$ES_BUILD/stage.sum") != "$sum" ]]; then
			rm -rf "$ES_BUILD/src" "$ES_BUILD/stage" "$ES_BUILD/stage.sum"
			mkdir -p "$ES_BUILD/src"
			es_ext_sources | tar -C "$ES_BUILD/src" -x
			(cd "$ES_BUILD/src" && es_pg_chroot_run make -s PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config") >/dev/null ||
				es_die "building the extension for PostgreSQL $PG_MAJOR failed"
			(cd "$ES_BUILD/src" && es_pg_chroot_run make -s PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" \
				DESTDIR="$ES_BUILD/stage" install) >/dev/null ||
				es_die "installing the extension for PostgreSQL $PG_MAJOR failed"
			echo "$sum" >"$ES_BUILD/stage.sum"
		fi
		cp -a "$ES_BUILD/stage/." "$ES_PG_CHROOT/"
		return 0
	fi
	[[ $EUID -ne 0 ]] && sudo=(sudo)
	make -C "$ES_ROOT" -s PG_CONFIG="$PGBIN/pg_config" >/dev/null || es_die "building the extension failed"
	"${sudo[@]}" make -C "$ES_ROOT" -s PG_CONFIG="$PGBIN/pg_config" install >/dev/null ||
		es_die "installing the extension failed"
}

# es_make TARGET...: make in the extension's tree for this server (the
# source tree for the machine's; build/pgN/src, inside the root, for a root),
# e.g. es_make installcheck.  Run es_install_extension first.
es_make() {
	if [[ -n $ES_PG_CHROOT ]]; then
		[[ -d $ES_BUILD/src ]] || es_die "the extension is not built for PostgreSQL $PG_MAJOR (es_install_extension)"
		(cd "$ES_BUILD/src" && es_pg_chroot_run make -s PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" "$@")
	else
		make -C "$ES_ROOT" -s PG_CONFIG="$PGBIN/pg_config" "$@"
	fi
}

# es_private_extension_dir: set ES_EXT_DIR to the server's extension
# directory, made private to this script: files written there are seen only by
# the servers it starts and are gone at its exit (e.g. throwaway versions of
# the extension).  The machine's server needs ES_PRIVATE_MOUNTS=1 for this.
es_private_extension_dir() {
	local share
	share=$("$PGBIN/pg_config" --sharedir)
	if [[ -n $ES_PG_CHROOT ]]; then
		ES_EXT_DIR=$ES_PG_CHROOT$share/extension
		return 0
	fi
	[[ -n ${ES_PRIVATE_NS:-} ]] || es_die "es_private_extension_dir: set ES_PRIVATE_MOUNTS=1 before sourcing tests/lib.sh"
	ES_EXT_DIR=$share/extension
	es_tmpdir >/dev/null
	mkdir -p "$ES_TMP/.ext-upper" "$ES_TMP/.ext-work"
	mount -t overlay overlay -o "lowerdir=$ES_EXT_DIR,upperdir=$ES_TMP/.ext-upper,workdir=$ES_TMP/.ext-work" "$ES_EXT_DIR" ||
		es_die "could not make $ES_EXT_DIR private"
	es_on_exit "umount -l '$ES_EXT_DIR'"
}

# es_results_dir: where es_make installcheck leaves regression.diffs.
es_results_dir() {
	if [[ -n $ES_PG_CHROOT ]]; then echo "$ES_BUILD/src"; else echo "$ES_ROOT"; fi
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
