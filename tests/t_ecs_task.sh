#!/usr/bin/env bash
#
# t_ecs_task.sh - the PostgreSQL relay as terraform/modules/postgres_relay
# runs it on ECS, without AWS: the task's command line and secrets are
# evaluated from the module (`terraform console`), the database login is
# stored in Secrets Manager on moto_server and resolved into PGHOST...
# PGDATABASE the way the ECS agent resolves `valueFrom = "ARN:key::"`, and the
# relay runs with exactly that command against a real PostgreSQL 15 with the
# extension and moto_server (Kinesis + S3, SigV4 checked):
#   - it creates its slot, the appended events arrive in Kinesis, in order
#     per aggregate
#   - SIGTERM (what ECS sends on stop/deploy) stops it cleanly, and the S3
#     archive holds objects under the module's prefix
# PGSSLMODE is the one deviation: the throwaway cluster has no TLS.

set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"
cd "$ES_ROOT"
TMP=$(es_tmpdir)
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" CHECKPOINT_DISABLE=1 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

TERRAFORM=$(command -v terraform || true)
[[ -n $TERRAFORM ]] || {
	echo "skipped: terraform is not installed"
	exit 77
}
es_need moto_server aws jq
[[ -f relay/Makefile ]] || {
	echo "skipped: no relay sources"
	exit 77
}
make -C relay -s eventrelay >"$TMP/build.log" 2>&1 || {
	cat "$TMP/build.log"
	es_die "building the relay failed"
}

# --- the database, prepared as docs/deploy.md says -------------------------------
es_cluster_start
es_psql -c "CREATE DATABASE app"
install -m 755 docker/postgres/initdb/10-eventstore.sh "$TMP/10-eventstore.sh"
es_as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATA="$ES_PGDATA" POSTGRES_USER=postgres \
	POSTGRES_DB=app RELAY_PASSWORD=relay-pw WRITER_PASSWORD=writer-pw sh "$TMP/10-eventstore.sh" >"$TMP/init.log" 2>&1 ||
	{
		cat "$TMP/init.log"
		es_die "preparing the database failed"
	}
# password logins over TCP, as from another host
sed -i 's/^host \(all\|replication\) all 127.0.0.1\/32 trust$/host \1 all 127.0.0.1\/32 scram-sha-256/' "$ES_PGDATA/pg_hba.conf"
es_psql -c "SELECT pg_reload_conf()" >/dev/null

# --- AWS stand-in: stream, bucket, the secret ------------------------------------
es_moto_start
es_kinesis_create "$ES_MOTO_URL" events 2
aws --endpoint-url "$ES_MOTO_URL" s3api create-bucket --bucket acme-archive >/dev/null
secret_arn=$(aws --endpoint-url "$ES_MOTO_URL" secretsmanager create-secret --name eventstore/relay \
	--secret-string "{\"host\":\"127.0.0.1\",\"port\":\"$PGPORT\",\"username\":\"relay\",\"password\":\"relay-pw\",\"dbname\":\"app\"}" \
	--query ARN --output text)

# --- the task definition's command and secrets, from the module -------------------
: >"$TMP/terraformrc"
export TF_CLI_CONFIG_FILE=$TMP/terraformrc
cp -r terraform/modules/postgres_relay "$TMP/module"
rm -rf "$TMP/module/.terraform" "$TMP/module/.terraform.lock.hcl"
init_args=(-backend=false -input=false -no-color)
[[ -d /opt/tf-plugins ]] && init_args+=(-plugin-dir=/opt/tf-plugins)
"$TERRAFORM" -chdir="$TMP/module" init "${init_args[@]}" >"$TMP/init.log" 2>&1 || {
	cat "$TMP/init.log"
	es_die "terraform init failed"
}
mport=$(es_free_port)
echo 'jsonencode({ command = local.command, secrets = local.secrets })' |
	"$TERRAFORM" -chdir="$TMP/module" console \
		-var name=pg-relay -var image=eventrelay:test -var vpc_id=vpc-0 -var 'subnet_ids=["subnet-0"]' \
		-var "database_secret_arn=$secret_arn" \
		-var kinesis_stream_arn=arn:aws:kinesis:us-east-1:123456789012:stream/events \
		-var archive_bucket_arn=arn:aws:s3:::acme-archive -var "metrics_port=$mport" 2>"$TMP/console.err" |
	python3 -c 'import json, sys; print(json.loads(sys.stdin.read()))' >"$TMP/task.json" || {
	cat "$TMP/console.err"
	es_die "terraform console could not evaluate the task's command"
}
es_log "task command: $(jq -c .command "$TMP/task.json")"
es_eq "the task's connection comes from the secret's five fields" "PGDATABASE PGHOST PGPASSWORD PGPORT PGUSER" \
	"$(jq -r '[.secrets[].name] | sort | join(" ")' "$TMP/task.json")"

# The ECS agent's job: "ARN:json-key::" -> that field of the secret's JSON.
secret_json=$(aws --endpoint-url "$ES_MOTO_URL" secretsmanager get-secret-value --secret-id "$secret_arn" \
	--query SecretString --output text)
secret_env=()
while IFS=$'\t' read -r name from; do
	[[ $from == "$secret_arn:"*"::" ]] || es_die "unexpected valueFrom $from"
	key=${from#"$secret_arn":}
	key=${key%::}
	secret_env+=("$name=$(jq -r --arg k "$key" '.[$k]' <<<"$secret_json")")
done < <(jq -r '.secrets[] | [.name, .valueFrom] | @tsv' "$TMP/task.json")
mapfile -t cmd < <(jq -r '.command[]' "$TMP/task.json")

env "${secret_env[@]}" PGSSLMODE=disable PGAPPNAME=eventrelay AWS_REGION=us-east-1 \
	AWS_ENDPOINT_URL="$ES_MOTO_URL" relay/eventrelay "${cmd[@]}" </dev/null >"$TMP/relay.log" 2>&1 &
relay_pid=$!
es_on_exit "kill -9 $relay_pid"
for _ in $(seq 1 150); do
	[[ $(es_psql -d app -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'eventrelay'") == 1 ]] && break
	kill -0 "$relay_pid" 2>/dev/null || break
	sleep 0.2
done
if [[ $(es_psql -d app -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'eventrelay'") == 1 ]]; then
	es_ok "the relay, with the task's command and secrets, creates its slot"
else
	tail -n 20 "$TMP/relay.log"
	es_not_ok "the relay, with the task's command and secrets, creates its slot"
fi

PGHOST=127.0.0.1 PGPASSWORD=writer-pw PGUSER=writer PGDATABASE=app CLIENTS=2 CARTS=2 ITEMS=2 DELAY=0 \
	sh docker/demo/writer.sh >"$TMP/writer.log" 2>&1 || {
	cat "$TMP/writer.log"
	es_not_ok "the writer appended its events"
}
want=$(es_psql -d app -c "SELECT count(*) FROM eventstore.events")
got=0
for _ in $(seq 1 60); do
	es_kinesis_read "$ES_MOTO_URL" events >"$TMP/kinesis.out" 2>/dev/null || true
	got=$(jq -s 'map([.aggregate_id, .version]) | unique | length' "$TMP/kinesis.out")
	((got >= want)) && break
	sleep 1
done
es_eq "every appended event arrived in Kinesis" "$want" "$got"
es_eq "in version order per aggregate" "" \
	"$(jq -s -r 'group_by(.aggregate_id)[] | select((map(.version)) != (map(.version) | sort)) | .[0].aggregate_id' "$TMP/kinesis.out")"
if curl -fsS --max-time 5 "http://127.0.0.1:$mport/metrics" 2>/dev/null | grep -q '^eventrelay_'; then
	es_ok "the relay serves metrics on the task's metrics port"
else
	es_not_ok "the relay serves metrics on the task's metrics port"
fi

kill -TERM "$relay_pid" 2>/dev/null || true
for _ in $(seq 1 600); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
rc=0
wait "$relay_pid" || rc=$?
es_eq "SIGTERM (ECS stop) ends the relay cleanly" 0 "$rc"
# (no --prefix: moto's signature check trips over the encoded "/" of the query)
objects=$(aws --endpoint-url "$ES_MOTO_URL" s3api list-objects-v2 --bucket acme-archive --output json |
	jq '[.Contents // [] | .[].Key | select(startswith("events/"))] | length' || echo "?")
if [[ $objects =~ ^[0-9]+$ ]] && ((objects >= 1)); then
	es_ok "the archive has objects under the module's prefix events/ ($objects)"
else
	tail -n 20 "$TMP/relay.log"
	es_not_ok "the archive has objects under the module's prefix events/ (got '$objects')"
fi
errors=$(grep -c '"level":"error"' "$TMP/relay.log" || true)
((errors == 0)) || grep '"level":"error"' "$TMP/relay.log" | head -n 5
es_eq "the relay logged no errors" 0 "$errors"

es_done
