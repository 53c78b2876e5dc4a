#!/usr/bin/env bash
#
# build-lambda-zip.sh - build eventrelay (make -C relay) and package it as the
# `bootstrap` of an AWS Lambda custom runtime (provided.al2023) in a zip, for
# terraform/modules/dynamodb_relay (variable zip_path).
#
#   scripts/build-lambda-zip.sh [--docker] [--arch x86_64|arm64] [-o ZIP] [--no-bundle-libs]
#
#   -o, --output ZIP   where to write the zip (default dist/eventrelay-lambda.zip)
#   --docker           build inside Amazon Linux 2023 (the Lambda OS) with Docker:
#                      the right way to build for AWS from any machine
#   --arch ARCH        x86_64 (default: this machine's) or arm64; with --docker,
#                      another architecture runs through QEMU/binfmt
#   --no-bundle-libs   do not copy the shared libraries into the zip
#
# Zip layout: bootstrap (the relay binary; started without arguments and with
# AWS_LAMBDA_RUNTIME_API set it runs `eventrelay dynamodb` in Lambda mode,
# configured by EVENTRELAY_* variables) and lib/ with the shared libraries it
# links (libpq, libcurl, OpenSSL, zlib and theirs) except glibc's own.
# Lambda puts /var/task/lib on LD_LIBRARY_PATH, and provided.al2023 ships
# glibc 2.34 and little else.
#
# For AWS the binary and its libraries must be built on/for Amazon Linux 2023
# (glibc 2.34), or statically: a build on a newer distribution (Debian 12 has
# glibc 2.36) may not start on Lambda ("GLIBC_2.35 not found"). This script
# warns when that is the case; --docker avoids it. The Docker command it runs
# is, in effect:
#
#   docker run --rm --platform linux/amd64 -v "$PWD:/src:ro" -v "$PWD/dist:/out" \
#     public.ecr.aws/amazonlinux/amazonlinux:2023 bash -c '
#       dnf install -y --allowerasing gcc make pkgconf-pkg-config findutils python3 \
#         libpq-devel libcurl-devel openssl-devel zlib-devel &&
#       cp -r /src/relay /src/scripts /tmp/ &&
#       /tmp/scripts/build-lambda-zip.sh --relay-dir /tmp/relay -o /out/eventrelay-lambda.zip'

set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

AL2023_IMAGE=${AL2023_IMAGE:-public.ecr.aws/amazonlinux/amazonlinux:2023}
LAMBDA_GLIBC=2.34
OUT=$ROOT/dist/eventrelay-lambda.zip
RELAY_DIR=$ROOT/relay
ARCH=
USE_DOCKER=0
BUNDLE=1

log() { printf 'build-lambda-zip: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
usage() { sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while (($#)); do
	case $1 in
	-o | --output)
		OUT=${2:?--output needs a path}
		shift
		;;
	--output=*) OUT=${1#*=} ;;
	--arch)
		ARCH=${2:?--arch needs x86_64 or arm64}
		shift
		;;
	--arch=*) ARCH=${1#*=} ;;
	--docker) USE_DOCKER=1 ;;
	--no-bundle-libs) BUNDLE=0 ;;
	--relay-dir)
		RELAY_DIR=${2:?--relay-dir needs a directory}
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown argument '$1'"
		;;
	esac
	shift
done

host_arch=$(uname -m)
[[ $host_arch == aarch64 ]] && host_arch=arm64
ARCH=${ARCH:-$host_arch}
[[ $ARCH == x86_64 || $ARCH == arm64 ]] || die "--arch must be x86_64 or arm64, not '$ARCH'"
[[ $OUT == /* ]] || OUT=$PWD/$OUT
mkdir -p "$(dirname "$OUT")"

if ((USE_DOCKER)); then
	command -v docker >/dev/null || die "--docker needs Docker"
	platform=linux/amd64
	[[ $ARCH == arm64 ]] && platform=linux/arm64
	outdir=$(dirname "$OUT")
	extra=()
	((BUNDLE)) || extra+=(--no-bundle-libs)
	log "building in $AL2023_IMAGE ($platform)"
	exec docker run --rm --platform "$platform" \
		-v "$ROOT:/src:ro" -v "$outdir:/out" \
		"$AL2023_IMAGE" bash -c '
			set -e
			dnf install -y -q --allowerasing gcc make pkgconf-pkg-config findutils python3 \
				libpq-devel libcurl-devel openssl-devel zlib-devel >/dev/null
			mkdir -p /tmp/build && cp -r /src/relay /src/scripts /tmp/build/
			make -C /tmp/build/relay clean >/dev/null
			/tmp/build/scripts/build-lambda-zip.sh --relay-dir /tmp/build/relay -o "/out/$1" "${@:2}"
			chown "$(stat -c %u:%g /out)" "/out/$1"
		' bash "$(basename "$OUT")" "${extra[@]}"
fi

[[ $ARCH == "$host_arch" ]] || die "cannot build $ARCH on $host_arch without --docker"
[[ -f $RELAY_DIR/Makefile ]] || die "no relay sources in $RELAY_DIR"

log "make -C $RELAY_DIR"
make -C "$RELAY_DIR" -s eventrelay >&2 || die "building the relay failed (scripts/deps.sh relay installs its build dependencies)"
bin=$RELAY_DIR/eventrelay
[[ -x $bin ]] || die "$bin was not built"

stage=$(mktemp -d "${TMPDIR:-/tmp}/lambda-zip.XXXXXX")
trap 'rm -rf "$stage"' EXIT
install -m 755 "$bin" "$stage/bootstrap"
strip --strip-debug "$stage/bootstrap" 2>/dev/null || true

# Shared libraries, except the C library itself (Lambda provides glibc).
if ((BUNDLE)); then
	mkdir -p "$stage/lib"
	while read -r name path; do
		case $name in
		linux-vdso* | linux-gate* | ld-linux* | libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | \
			librt.so.* | libresolv.so.* | libutil.so.* | libnsl.so.* | libanl.so.* | libcrypt.so.*) continue ;;
		esac
		[[ -f $path ]] || die "ldd could not resolve $name"
		install -m 644 "$path" "$stage/lib/$name"
		strip --strip-unneeded "$stage/lib/$name" 2>/dev/null || true
	done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')
fi

# glibc versions the package needs, against what provided.al2023 has.
need=$(cat "$stage/bootstrap" "$stage"/lib/* 2>/dev/null | grep -a -o 'GLIBC_2\.[0-9]*' | sort -t. -k2,2n -u | tail -n 1)
need=${need#GLIBC_}
if [[ -n $need ]] && (($(printf '%s\n' "$need" "$LAMBDA_GLIBC" | sort -t. -k2,2n | tail -n 1 | cut -d. -f2) > ${LAMBDA_GLIBC#2.})); then
	log "WARNING: the package needs glibc $need but provided.al2023 has $LAMBDA_GLIBC: it will not start on AWS Lambda."
	log "         build it for Amazon Linux 2023: $0 --docker (see the top of this script)"
fi

python3 - "$stage" "$OUT" <<'PY'
import os
import sys
import zipfile

stage, out = sys.argv[1], sys.argv[2]
tmp = out + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for root, dirs, files in os.walk(stage):
        dirs.sort()
        for f in sorted(files):
            path = os.path.join(root, f)
            name = os.path.relpath(path, stage)
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # reproducible
            info.external_attr = (0o100755 if os.access(path, os.X_OK) else 0o100644) << 16
            info.create_system = 3  # unix, so the mode bits count
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as fh:
                z.writestr(info, fh.read())
os.replace(tmp, out)
PY
libs=$(find "$stage/lib" -type f 2>/dev/null | wc -l)
log "wrote $OUT ($(du -k "$OUT" | cut -f1) KiB: bootstrap + $libs libraries, $ARCH, needs glibc ${need:-?})"
echo "$OUT"
