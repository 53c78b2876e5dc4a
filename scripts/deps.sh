#!/usr/bin/env bash
#
# deps.sh - install what the build, the demo and the tests need, and only what
# is missing.  Idempotent: on a machine that has everything it changes nothing
# and runs no package manager.
#
#   scripts/deps.sh [GROUP...]     groups: pg relay fuzz aws node compose bench roots format
#                                  (default: all; relay includes fuzz)
#
# roots: debootstrap, which scripts/pg_root.sh uses to make the Debian roots
# holding the other PostgreSQL major versions (17, 18) the tests run on.
#
# Debian/Ubuntu packages come from apt (as root, or through sudo); the AWS
# stand-ins from pip (moto) and npm (kinesalite, @vercel/fun), into the
# project's own tests/node_modules.  PG_MAJOR (default 15) picks the server.

set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}

log() { printf 'deps: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

SUDO=()
if [[ $EUID -ne 0 ]]; then
	command -v sudo >/dev/null || die "not root and no sudo: install the packages listed by '$0 --list' by hand"
	SUDO=(sudo)
fi

pkgs_pg=("postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" "postgresql-client-$PG_MAJOR" make gcc libc6-dev pkg-config)
pkgs_relay=(make gcc libc6-dev pkg-config libpq-dev libcurl4-openssl-dev libssl-dev libjson-c-dev libcmocka-dev zlib1g-dev curl jq
	# a fixed wall clock for the relay in tests/t_rds_iam_token.sh (IAM tokens are time-based)
	faketime)
# libFuzzer and the sanitizer runtimes for relay/fuzz (make -C relay fuzz)
pkgs_fuzz=(clang libclang-rt-dev)
pkgs_bench=("postgresql-$PG_MAJOR-wal2json" time)
pkgs_node=(nodejs npm)
pkgs_compose=(docker-compose)
pkgs_roots=(debootstrap util-linux)
pkgs_format=(clang-format)

APT_UPDATED=0
apt_install() { # apt_install [--no-install-recommends] PKG...: install those not yet installed
	local -a missing=() opts=()
	local p
	if [[ ${1-} == --no-install-recommends ]]; then
		opts+=("$1")
		shift
	fi
	for p in "$@"; do
		dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	command -v apt-get >/dev/null || die "apt-get not found; install by hand: ${missing[*]}"
	log "installing ${missing[*]}"
	if ((!APT_UPDATED)); then
		"${SUDO[@]}" apt-get update -qq >/dev/null || log "warning: apt-get update failed; trying with the lists we have"
		APT_UPDATED=1
	fi
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${opts[@]}" "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

dep_aws() {
	# The AWS CLI reads back what the relay wrote; moto_server stands in for
	# Kinesis, S3 and DynamoDB Streams.
	if ! command -v aws >/dev/null; then
		apt_install --no-install-recommends awscli
	fi
	if ! command -v moto_server >/dev/null; then
		if command -v pip3 >/dev/null || command -v pip >/dev/null; then
			log "installing moto[server] with pip"
			"$(command -v pip3 || command -v pip)" install -q 'moto[server]' ||
				die "moto_server is missing and 'pip install moto[server]' failed"
		else
			die "moto_server is missing and there is no pip to install it ('pip install moto[server]')"
		fi
	fi
}

dep_node() {
	command -v npm >/dev/null || apt_install "${pkgs_node[@]}"
	# Project-local emulators, pinned in tests/package.json.
	if [[ ! -d $ROOT/tests/node_modules/kinesalite || ! -d $ROOT/tests/node_modules/@vercel/fun ||
		! -d $ROOT/tests/node_modules/@aws-sdk/rds-signer ]]; then
		log "npm install in tests/"
		(cd "$ROOT/tests" && npm install --no-audit --no-fund --loglevel=error >/dev/null) ||
			die "npm install in tests/ failed"
	fi
}

main() {
	local -a groups=("$@")
	((${#groups[@]})) || groups=(pg relay aws node compose bench roots format)
	local g
	for g in "${groups[@]}"; do
		case $g in
		pg) apt_install "${pkgs_pg[@]}" ;;
		relay) apt_install "${pkgs_relay[@]}" "${pkgs_fuzz[@]}" ;;
		fuzz) apt_install "${pkgs_fuzz[@]}" ;;
		bench) apt_install "${pkgs_bench[@]}" ;;
		compose) apt_install --no-install-recommends "${pkgs_compose[@]}" ;;
		roots) apt_install "${pkgs_roots[@]}" ;;
		format) command -v clang-format >/dev/null || apt_install "${pkgs_format[@]}" ;;
		aws) dep_aws ;;
		node) dep_node ;;
		--list)
			echo "${pkgs_pg[*]} ${pkgs_relay[*]} ${pkgs_fuzz[*]} ${pkgs_bench[*]} ${pkgs_node[*]} ${pkgs_compose[*]} ${pkgs_roots[*]} ${pkgs_format[*]} awscli"
			;;
		*) die "unknown group '$g' (pg relay fuzz aws node compose bench roots format)" ;;
		esac
	done
}

main "$@"
