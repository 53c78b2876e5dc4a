#!/usr/bin/env bash
#
# t_packaging.sh - what a packager (PGXN) reads agrees with the tree:
# META.json has the fields the PGXN meta spec 1.0.0 requires, names the
# extension and the version the control file installs, points at files that
# exist, declares the license LICENSE holds and the oldest tested PostgreSQL;
# the README's tested versions are the versions scripts/test.sh tests.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v jq >/dev/null || {
	echo "skipped: jq is not installed (scripts/deps.sh relay)"
	exit 77
}
cd "$ES_ROOT"
meta() { jq -r "$1" META.json; }
jqe() { jq -e "$@" >/dev/null; }

es_check "META.json is JSON" jqe . META.json
for k in name abstract version maintainer license provides '"meta-spec".version'; do
	es_check "META.json has $k" jqe ".$k != null" META.json
done
es_eq "meta-spec version" 1.0.0 "$(meta '."meta-spec".version')"
ext=$(sed -n 's/^EXTENSION = //p' Makefile)
es_eq "name is the Makefile's EXTENSION" "$ext" "$(meta .name)"
default=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ext.control")
semver() { [[ $1 =~ ^[0-9]+\.[0-9]+$ ]] && echo "$1.0" || echo "$1"; }
es_eq "version is the control file's default_version ($default)" "$(semver "$default")" "$(meta .version)"
es_eq "provides.$ext.version too" "$(semver "$default")" "$(meta ".provides.$ext.version")"
file=$(meta ".provides.$ext.file")
es_check "provides.$ext.file ($file) exists" test -f "$file"
es_check "provides.$ext.docfile exists" test -f "$(meta ".provides.$ext.docfile")"
es_eq "license: postgresql" postgresql "$(meta .license)"
es_eq "LICENSE is the PostgreSQL License" "PostgreSQL License" "$(head -n 1 LICENSE)"

# The matrix scripts/test.sh runs by default.
matrix=$(sed -n 's/.*ES_PG_VERSIONS:-\([0-9 ]*\)}.*/\1/p' scripts/test.sh | head -n 1)
oldest=$(tr ' ' '\n' <<<"$matrix" | sort -n | head -n 1)
es_eq "META.json requires the oldest tested PostgreSQL ($oldest)" "$oldest.0.0" "$(meta .prereqs.runtime.requires.PostgreSQL)"
tested=$(grep -m1 '^Tested on every run: PostgreSQL' README.md | grep -oE '[0-9]+' | head -n "$(wc -w <<<"$matrix")" | tr '\n' ' ' | sed 's/ $//')
es_eq "README's tested versions are the test matrix" "$matrix" "$tested"
es_done
