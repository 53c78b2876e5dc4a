#!/usr/bin/env bash
#
# t_terraform.sh - the Terraform of the AWS deployment (terraform/):
#   - terraform fmt -check -recursive
#   - terraform init -backend=false + validate for every module and example
#     (offline with the provider mirror in /opt/tf-plugins when it exists,
#     a normal init elsewhere), in a temporary copy: no .terraform or lock
#     file is left in the work tree
#   - every module has variables.tf, outputs.tf, versions.tf (with a pinned
#     provider version) and a README.md
#   - terraform test for the modules that have tests/ (dynamodb_relay, rds_postgres,
#     postgres_relay): the rendered IAM policies name exactly the resources
#     they should, and the function / task are configured as documented
#   - no IAM policy names a wildcard ("*") resource (and the check itself
#     catches one when shown one)
#   (the Lambda zip the dynamodb_relay module deploys: tests/t_lambda_zip.sh)

set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ES_ROOT"

TMP=$(es_tmpdir)
TF_PLUGIN_MIRROR=${TF_PLUGIN_MIRROR:-/opt/tf-plugins}
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
# A CLI config of our own: nothing from the machine's (possibly missing) one.
: >"$TMP/terraformrc"
export TF_CLI_CONFIG_FILE=$TMP/terraformrc
unset TF_PLUGIN_CACHE_DIR TF_DATA_DIR

TERRAFORM=${TERRAFORM:-$(command -v terraform || true)}
if [[ -z $TERRAFORM ]]; then
	# Not packaged by Debian: fetch the official release when the network allows.
	ver=1.11.4
	es_log "terraform not found; trying to download terraform $ver from releases.hashicorp.com"
	if curl -fsSL --max-time 60 -o "$TMP/tf.zip" \
		"https://releases.hashicorp.com/terraform/${ver}/terraform_${ver}_linux_amd64.zip" 2>/dev/null &&
		python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("terraform", sys.argv[2])' "$TMP/tf.zip" "$TMP/bin"; then
		chmod +x "$TMP/bin/terraform"
		TERRAFORM=$TMP/bin/terraform
	else
		echo "skipped: terraform is not installed and could not be downloaded (install terraform >= 1.5)"
		exit 77
	fi
fi
es_log "using $("$TERRAFORM" version | head -n 1) at $TERRAFORM"

init_args=(-backend=false -input=false -no-color)
if [[ -d $TF_PLUGIN_MIRROR ]]; then
	init_args+=(-plugin-dir="$TF_PLUGIN_MIRROR")
	es_log "provider mirror: $TF_PLUGIN_MIRROR"
fi

# --- formatting (on the work tree itself, read-only) ---------------------------
if out=$("$TERRAFORM" fmt -check -recursive -no-color terraform 2>&1); then
	es_ok "terraform fmt -check -recursive terraform"
else
	es_not_ok "terraform fmt -check -recursive terraform: needs formatting: $out"
fi

# --- layout ---------------------------------------------------------------------
modules=(event_source_table kinesis_stream archive_bucket dynamodb_relay postgres_relay rds_postgres)
for m in "${modules[@]}"; do
	d=terraform/modules/$m
	missing=()
	for f in main.tf variables.tf outputs.tf versions.tf README.md; do
		[[ -f $d/$f ]] || missing+=("$f")
	done
	es_eq "module $m has main.tf variables.tf outputs.tf versions.tf README.md" "" "${missing[*]}"
	if grep -Eq 'version[[:space:]]*=[[:space:]]*"[~=]' "$d/versions.tf" 2>/dev/null; then
		es_ok "module $m pins its provider version"
	else
		es_not_ok "module $m pins its provider version (versions.tf)"
	fi
done

# --- init + validate, in a copy -----------------------------------------------
cp -r terraform "$TMP/terraform"
find "$TMP/terraform" \( -name .terraform -o -name .terraform.lock.hcl \) -prune -exec rm -rf {} +
dirs=()
for m in "${modules[@]}"; do dirs+=("modules/$m"); done
for e in terraform/examples/*/; do dirs+=("examples/$(basename "$e")"); done
# check_dir DIR: init, validate and (if it has tests/) terraform test one
# directory; prints "ok|not ok<TAB>description" lines and diagnostics.
check_dir() {
	local d=$1 wd=$TMP/terraform/$1 out
	if ! out=$("$TERRAFORM" -chdir="$wd" init "${init_args[@]}" 2>&1); then
		printf 'diag\t%s\n' "$(tail -n 20 <<<"$out")"
		printf 'not ok\tterraform init %s\n' "$d"
		return
	fi
	if out=$("$TERRAFORM" -chdir="$wd" validate -no-color 2>&1); then
		printf 'ok\tterraform validate %s\n' "$d"
	else
		printf 'diag\t%s\n' "$out"
		printf 'not ok\tterraform validate %s\n' "$d"
	fi
	# Tests (tests/*.tftest.hcl): the modules' render the IAM policies with the
	# real provider and every managed resource overridden; the example's wire
	# both paths against a mocked provider. No AWS account or network needed.
	if compgen -G "$wd/tests/*.tftest.hcl" >/dev/null; then
		if out=$("$TERRAFORM" -chdir="$wd" test -no-color 2>&1); then
			printf 'ok\tterraform test %s (%s)\n' "$d" "$(grep -E '^(Success|Failure)' <<<"$out")"
		else
			printf 'diag\t%s\n' "$(tail -n 40 <<<"$out")"
			printf 'not ok\tterraform test %s\n' "$d"
		fi
	fi
}
# Two directories at a time: terraform spends its time loading the provider.
jobs_max=${TF_TEST_JOBS:-2}
for i in "${!dirs[@]}"; do
	while (($(jobs -rp | wc -l) >= jobs_max)); do wait -n || true; done
	check_dir "${dirs[$i]}" >"$TMP/result.$i" 2>&1 &
done
wait
for i in "${!dirs[@]}"; do
	while IFS= read -r line; do
		case $line in
		ok$'\t'*) es_ok "${line#*$'\t'}" ;;
		"not ok"$'\t'*) es_not_ok "${line#*$'\t'}" ;;
		*) printf '#   %s\n' "${line#diag$'\t'}" ;;
		esac
	done <"$TMP/result.$i"
done

# --- no wildcard resources in IAM policies ------------------------------------
check=terraform/tools/check_iam_resources.py
if out=$(python3 "$check" terraform 2>&1); then
	es_ok "no IAM policy names a '*' resource ($(tail -n 1 <<<"$out"))"
else
	echo "$out"
	es_not_ok "no IAM policy names a '*' resource"
fi
# The check must see a wildcard when there is one.
mkdir -p "$TMP/bad"
cat >"$TMP/bad/main.tf" <<'TF'
data "aws_iam_policy_document" "bad" {
  statement {
    actions = ["kinesis:PutRecords"]
    resources = [
      "*",
    ]
  }
}
resource "aws_iam_policy" "bad2" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:PutObject", Resource = "arn:aws:s3:::*" }] })
}
TF
rc=0
out=$(python3 "$check" "$TMP/bad" 2>&1) || rc=$?
es_eq "the IAM check rejects a '*' resource" 1 "$rc"
es_eq "the IAM check reports both wildcards" 2 "$(grep -c 'wildcard resource' <<<"$out")"

# No Terraform state or lock files may be left in the work tree.
es_eq "no .terraform dir or lock file in terraform/" "" \
	"$(find terraform \( -name .terraform -o -name .terraform.lock.hcl -o -name '*.tfstate' \) -print)"

es_done
