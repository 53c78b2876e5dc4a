#!/usr/bin/env bash
#
# pg_root.sh - a Debian root with a newer PostgreSQL major version, for the
# version matrix of the tests (the machine's Debian has only one major).
# Made once with debootstrap from Debian's mirror into a cache directory and
# reused; made again when missing, incomplete, made by another recipe, or older
# than ES_ROOT_MAX_AGE_DAYS (then, if Debian cannot be reached, the old root is
# kept with a warning).  The cached root is never written to by the tests:
# tests/lib.sh runs the server on a private overlay of it.
#
#   scripts/pg_root.sh VERSION          make or reuse the root; prints its directory
#   scripts/pg_root.sh --check VERSION  prints it if usable as is, exit 1 otherwise
#   scripts/pg_root.sh --list           the versions this script knows
#
# Environment: ES_ROOTS_DIR (default $XDG_CACHE_HOME/eventstore/roots or
# ~/.cache/eventstore/roots), ES_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# ES_ROOT_MAX_AGE_DAYS (default 30).  Needs root (debootstrap, chroot).

set -Eeuo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOTS=${ES_ROOTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/eventstore/roots}
MIRROR=${ES_DEBIAN_MIRROR:-http://deb.debian.org/debian}
MAX_AGE_DAYS=${ES_ROOT_MAX_AGE_DAYS:-30}

log() { printf 'pg_root: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# recipe VERSION: sets SUITE, SCRIPT, PACKAGES for a PostgreSQL major.
recipe() {
	case $1 in
	17) SUITE=trixie SCRIPT=trixie ;;
	# bookworm's debootstrap has no forky script; trixie's serves.
	18) SUITE=forky SCRIPT=trixie ;;
	*) die "no Debian root known for PostgreSQL '$1' (known: 17 18)" ;;
	esac
	PACKAGES="postgresql-$1,postgresql-server-dev-$1,make,gcc,libc6-dev"
	# Bump the trailing number when what a root must contain changes.
	RECIPE="suite=$SUITE script=$SCRIPT packages=$PACKAGES recipe=1"
}

# usable DIR VERSION: the root exists, is complete and was made by this recipe.
usable() {
	local dir=$1 v=$2
	[[ -f $dir/.eventstore-root ]] &&
		[[ $(sed -n 's/^recipe: //p' "$dir/.eventstore-root") == "$RECIPE" ]] &&
		[[ -x $dir/usr/lib/postgresql/$v/bin/postgres && -x $dir/usr/lib/postgresql/$v/bin/pg_config ]] &&
		[[ -f $dir/usr/lib/postgresql/$v/lib/pgxs/src/makefiles/pgxs.mk ]] &&
		[[ -c $dir/dev/null && $(stat -c %a "$dir") == 755 ]] && grep -q '^postgres:' "$dir/etc/passwd"
}

too_old() {
	[[ -n $(find "$1/.eventstore-root" -mtime +"$MAX_AGE_DAYS" 2>/dev/null) ]]
}

# build VERSION DIR: debootstrap a fresh root next to DIR, then swap it in.
build() {
	local v=$1 dir=$2 new logf rc=0
	command -v debootstrap >/dev/null || bash "$SELF_DIR/deps.sh" roots
	new=$(mktemp -d "$dir.new.XXXXXX")
	logf=$ROOTS/pg$v.log
	log "making the PostgreSQL $v root ($SUITE from $MIRROR) in $dir; log: $logf"
	# In a private mount namespace: whatever debootstrap leaves mounted on
	# failure (proc, sys) goes away with it.
	unshare --mount --propagation private -- \
		debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$new" "$MIRROR" \
		"/usr/share/debootstrap/scripts/$SCRIPT" >"$logf" 2>&1 &
	BUILD_PID=$! BUILD_DIR=$new
	wait "$BUILD_PID" || rc=$?
	BUILD_PID=
	if ((rc != 0)); then
		rm -rf --one-file-system "$new"
		tail -n 5 "$logf" | sed 's/^/pg_root:   /' >&2
		log "cannot make the PostgreSQL $v root: debootstrap $SUITE from $MIRROR failed (exit $rc; no network to Debian's mirror?); full log: $logf"
		return 1
	fi
	# The package cache is a fifth of the root's size and never used again;
	# mktemp made the directory private, but it is the root's / for postgres.
	rm -f "$new"/var/cache/apt/archives/*.deb
	chmod 755 "$new"
	{
		echo "recipe: $RECIPE"
		echo "mirror: $MIRROR"
		echo "made: $(date -u +%FT%TZ)"
		echo "postgresql: $(chroot "$new" "/usr/lib/postgresql/$v/bin/pg_config" --version)"
	} >"$new/.eventstore-root"
	usable "$new" "$v" || {
		rm -rf --one-file-system "$new"
		log "cannot make the PostgreSQL $v root: debootstrap succeeded but the root lacks PostgreSQL $v (see $logf)"
		return 1
	}
	BUILD_DIR=
	if [[ -e $dir ]]; then
		mv "$dir" "$dir.old.$$"
		mv "$new" "$dir"
		rm -rf --one-file-system "$dir.old.$$"
	else
		mv "$new" "$dir"
	fi
	log "made $(sed -n 's/^postgresql: //p' "$dir/.eventstore-root") in $dir"
}

# Interrupted: stop debootstrap and remove the half-made root.
BUILD_PID= BUILD_DIR=
on_signal() {
	set +e
	if [[ -n $BUILD_PID ]]; then
		kill "$BUILD_PID" 2>/dev/null
		wait "$BUILD_PID" 2>/dev/null
	fi
	[[ -n $BUILD_DIR ]] && rm -rf --one-file-system "$BUILD_DIR"
	log "interrupted"
	exit 143
}
trap on_signal TERM INT HUP

main() {
	local check=0 v dir lockfd
	case ${1-} in
	--check)
		check=1
		shift
		;;
	--list)
		echo 17 18
		return 0
		;;
	esac
	v=${1-}
	[[ -n $v ]] || die "usage: $0 [--check] VERSION"
	recipe "$v"
	dir=$ROOTS/pg$v
	if ((check)); then
		usable "$dir" "$v" || return 1
		echo "$dir"
		return 0
	fi
	# The usual case, without waiting for the tests that use the root now.
	if usable "$dir" "$v" && ! too_old "$dir"; then
		echo "$dir"
		return 0
	fi
	[[ $EUID -eq 0 ]] || die "making a root needs root (debootstrap, chroot)"
	mkdir -p "$ROOTS"
	# Exclusive while making; tests hold it shared while they use the root.
	exec {lockfd}>"$ROOTS/pg$v.lock"
	flock -x "$lockfd"
	# Left by a run that died: nobody else makes this root while we hold the lock.
	rm -rf --one-file-system "$dir".new.* "$dir".old.*
	if usable "$dir" "$v"; then
		if too_old "$dir"; then
			log "the PostgreSQL $v root is older than $MAX_AGE_DAYS days: making it again"
			build "$v" "$dir" || log "warning: keeping the old PostgreSQL $v root ($(sed -n 's/^made: //p' "$dir/.eventstore-root"))"
		fi
	else
		[[ -e $dir ]] && log "the PostgreSQL $v root in $dir is incomplete or from another recipe: making it again"
		build "$v" "$dir" || exit 1
	fi
	echo "$dir"
}

main "$@"
