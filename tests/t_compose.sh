#!/usr/bin/env bash
#
# t_compose.sh - the docker-compose demo stack, without a Docker engine:
#   - `docker-compose config -q` accepts docker-compose.yml
#   - every file it refers to exists: build contexts, Dockerfiles, bind-mounted
#     directories, the scripts its entrypoints run from those mounts, and every
#     COPY/ADD source of the Dockerfiles (relative to their build context)
#   - images are pinned (no :latest, no untagged image)
#   - the shell scripts parse (sh -n)
#   - the database init script and the writer run against a real PostgreSQL 15
#     with the extension, as the postgres image would run them, and the writer
#     appends the carts' events
#   - the setup and reader scripts work against moto_server (when installed)
#   - the relay service's exact command line and environment (addresses
#     swapped for loopback) on that cluster and moto_server: it creates its
#     slot, the writer's events arrive in Kinesis (read by reader.sh), metrics
#     answer, SIGTERM stops it cleanly and the S3 archive has its object

set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ES_ROOT"
TMP=$(es_tmpdir)

if ! command -v docker-compose >/dev/null; then
	bash scripts/deps.sh compose >&2 || true
fi
if ! command -v docker-compose >/dev/null; then
	echo "skipped: docker-compose is not installed and could not be installed (apt: docker-compose --no-install-recommends)"
	exit 77
fi

# --- the compose file is valid ------------------------------------------------
if out=$(docker-compose -f docker-compose.yml config -q 2>&1); then
	es_ok "docker-compose config -q"
else
	echo "$out"
	es_not_ok "docker-compose config -q"
fi
docker-compose -f docker-compose.yml config >"$TMP/config.yml" 2>/dev/null

# --- every file it refers to exists -------------------------------------------
python3 - "$ES_ROOT" "$TMP/config.yml" >"$TMP/refs.txt" <<'PY'
import glob
import os
import re
import sys

import yaml

root, config = sys.argv[1], sys.argv[2]
cfg = yaml.safe_load(open(config))
problems = []
checked = []


def need(path, what):
    checked.append(what)
    if not os.path.exists(path):
        problems.append(f"{what}: {os.path.relpath(path, root)} does not exist")


def inside_repo(path, what):
    if not os.path.realpath(path).startswith(os.path.realpath(root) + os.sep) and os.path.realpath(path) != os.path.realpath(root):
        problems.append(f"{what}: {path} is outside the repository")


def dockerfile_sources(dockerfile, context, svc):
    """COPY/ADD sources (not --from=) of a Dockerfile must exist in the context."""
    text = open(dockerfile).read().replace("\\\n", " ")
    for line in text.splitlines():
        m = re.match(r"\s*(COPY|ADD)\s+(.*)", line, re.I)
        if not m:
            continue
        args = m.group(2).split()
        if any(a.startswith("--from") for a in args):
            continue
        args = [a for a in args if not a.startswith("--")]
        for src in args[:-1]:
            what = f"{svc}: {os.path.relpath(dockerfile, root)} {m.group(1).upper()} {src}"
            checked.append(what)
            if not glob.glob(os.path.join(context, src)):
                problems.append(f"{what}: not found in the build context")


images = {}
for name, svc in (cfg.get("services") or {}).items():
    image = svc.get("image")
    build = svc.get("build")
    if build:
        ctx = build["context"] if isinstance(build, dict) else build
        ctx = os.path.join(root, ctx)
        need(ctx, f"{name}: build context")
        inside_repo(ctx, f"{name}: build context")
        df = os.path.join(ctx, build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile")
        need(df, f"{name}: dockerfile")
        if os.path.exists(df):
            dockerfile_sources(df, ctx, name)
    elif image:
        checked.append(f"{name}: image {image}")
        tag = image.rsplit("/", 1)[-1]
        if "@sha256:" not in image and (":" not in tag or tag.endswith(":latest")):
            problems.append(f"{name}: image {image} is not pinned to a version")
    else:
        problems.append(f"{name}: neither build nor image")
    mounts = {}
    for v in svc.get("volumes") or []:
        if isinstance(v, dict):
            src, dst, typ = v.get("source"), v.get("target"), v.get("type")
        else:
            parts = v.split(":")
            src, dst = parts[0], parts[1]
            typ = "bind" if src.startswith((".", "/")) else "volume"
        if typ == "bind":
            need(src, f"{name}: bind mount {dst}")
            inside_repo(src, f"{name}: bind mount {dst}")
            mounts[dst] = src
    for key in ("entrypoint", "command"):
        val = svc.get(key) or []
        if isinstance(val, str):
            val = val.split()
        for arg in val:
            for dst, src in mounts.items():
                if arg.startswith(dst.rstrip("/") + "/"):
                    need(os.path.join(src, arg[len(dst.rstrip("/")) + 1:]), f"{name}: {key} runs {arg}")
    for f in svc.get("env_file") or []:
        need(f if os.path.isabs(f) else os.path.join(root, f), f"{name}: env_file")

for c in checked:
    print("checked", c)
for p in problems:
    print("problem", p)
PY
grep '^checked' "$TMP/refs.txt" | sed 's/^checked /  /' >&2 || true
es_eq "every file docker-compose.yml and its Dockerfiles refer to exists, images pinned" "" \
	"$(grep '^problem' "$TMP/refs.txt" | sed 's/^problem //')"
n=$(grep -c '^checked' "$TMP/refs.txt" || true)
if ((n >= 10)); then es_ok "the reference check saw the stack ($n references)"; else es_not_ok "the reference check saw only $n references"; fi
for svc in postgres aws setup relay writer reader; do
	if grep -q "^checked $svc:" "$TMP/refs.txt"; then es_ok "service $svc is defined"; else es_not_ok "service $svc is defined"; fi
done

# --- scripts parse --------------------------------------------------------------
for f in docker/postgres/initdb/*.sh docker/demo/*.sh; do
	es_check "sh -n $f" sh -n "$f"
done

# --- init script + writer on a real cluster -------------------------------------
if [[ -x $PGBIN/initdb ]] && [[ -f $("$PGBIN/pg_config" --sharedir)/extension/eventstore.control ]]; then
	es_cluster_start
	es_psql -c "CREATE DATABASE app"
	# As the image's entrypoint runs it: the postgres OS user, PGDATA set.
	install -m 755 docker/postgres/initdb/10-eventstore.sh "$TMP/10-eventstore.sh"
	if es_as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATA="$ES_PGDATA" POSTGRES_USER=postgres \
		POSTGRES_DB=app RELAY_PASSWORD=relay-pw WRITER_PASSWORD=writer-pw sh "$TMP/10-eventstore.sh" >"$TMP/init.log" 2>&1; then
		es_ok "initdb script: extension and roles created"
	else
		cat "$TMP/init.log"
		es_not_ok "initdb script: extension and roles created"
	fi
	es_eq "the relay login has REPLICATION and eventstore_relay" "t|t" \
		"$(es_psql -d app -c "SELECT rolreplication, pg_has_role('relay', 'eventstore_relay', 'member') FROM pg_roles WHERE rolname = 'relay'")"
	es_check "pg_hba.conf allows the relay's replication connections" \
		grep -q '^host replication relay all scram-sha-256' "$ES_PGDATA/pg_hba.conf"
	if PGUSER=writer PGDATABASE=app CLIENTS=3 CARTS=2 ITEMS=3 DELAY=0 sh docker/demo/writer.sh >"$TMP/writer.log" 2>&1; then
		es_ok "writer.sh ran as the writer role"
	else
		cat "$TMP/writer.log"
		es_not_ok "writer.sh ran as the writer role"
	fi
	# 3 clients x 2 carts x (open + 3 items + a batch of 2) = 36 events, 6 carts at version 6.
	es_eq "the writer appended every cart's events" "36|6|6" \
		"$(es_psql -d app -c "SELECT count(*), count(DISTINCT aggregate_id), max(version) FROM eventstore.events")"
	es_eq "every cart is opened, filled and checked out" "6|18|6|6" \
		"$(es_psql -d app -c "SELECT count(*) FILTER (WHERE type = 'CartOpened'), count(*) FILTER (WHERE type = 'ItemAdded'),
			count(*) FILTER (WHERE type = 'ItemRemoved'), count(*) FILTER (WHERE type = 'CheckedOut') FROM eventstore.events")"
	es_check "the writer says what it did" grep -q 'writer: done: 3 clients, 6 carts, 36 events appended' "$TMP/writer.log"
else
	es_log "extension not installed in $PGBIN: init script and writer not run (scripts/test.sh installs it first)"
	es_not_ok "the extension is installed for the init script and writer check"
fi

# --- setup + reader against moto_server ---------------------------------------
if command -v moto_server >/dev/null && command -v aws >/dev/null; then
	port=$(es_free_port)
	moto_server -H 127.0.0.1 -p "$port" >"$TMP/moto.log" 2>&1 &
	moto_pid=$!
	es_on_exit "kill $moto_pid"
	es_wait_port "$port" 30 || es_die "moto_server did not start"
	export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
	export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
	export STREAM=events SHARDS=2 BUCKET=event-archive PREFIX=events/
	if sh docker/demo/setup.sh >"$TMP/setup.log" 2>&1 && sh docker/demo/setup.sh >>"$TMP/setup.log" 2>&1; then
		es_ok "setup.sh creates the stream and bucket (and is idempotent)"
	else
		cat "$TMP/setup.log"
		es_not_ok "setup.sh creates the stream and bucket (and is idempotent)"
	fi
	# Three envelopes as the relay would put them (CLI v1 and v2 differ on blob
	# input; put-records with a base64 file:// JSON works for both).
	python3 - >"$TMP/records.json" <<'PY'
import base64, json
recs = []
for v in (1, 2, 3):
    env = {"aggregate_id": "c0000000-0000-0000-0000-000000000001", "aggregate_type": "cart",
           "version": v, "type": "ItemAdded", "data": {"sku": "SKU-%d" % v}}
    recs.append({"Data": base64.b64encode(json.dumps(env).encode()).decode(),
                 "PartitionKey": env["aggregate_id"]})
print(json.dumps({"StreamName": "events", "Records": recs}))
PY
	aws kinesis put-records --cli-input-json "file://$TMP/records.json" >/dev/null
	printf 'x\n' | gzip >"$TMP/obj.gz"
	aws s3 cp "$TMP/obj.gz" s3://event-archive/events/2026/11/23/09/00000001-00000003.ndjson.gz >/dev/null
	IDLE_EXIT=2 POLL=1 REPORT_EVERY=600 timeout 90 sh docker/demo/reader.sh >"$TMP/reader.log" 2>&1 || true
	# CLI v1 base64-encodes blob input itself, so with v1 the data is base64 twice.
	decoded=$(grep -v '^reader:' "$TMP/reader.log" | while read -r l; do
		if [[ $l == \{* ]]; then echo "$l"; else printf '%s' "$l" | base64 -d; echo; fi
	done | grep -c '"aggregate_type": "cart"' || true)
	es_eq "reader.sh prints every record of the stream" 3 "$decoded"
	es_check "reader.sh lists the archive objects" grep -q '1 archive objects under s3://event-archive/events/' "$TMP/reader.log"
	es_check "reader.sh exits when idle with a count" grep -q '3 events read, exiting' "$TMP/reader.log"

	# --- the relay service's own command line and environment, end to end ----
	# The compose file's relay command and environment, with the compose
	# network's addresses swapped for this machine's: the slot, sinks, bucket,
	# prefix and dead-letter settings are exactly the ones the stack uses.
	if [[ -n ${ES_PGDATA:-} ]] && make -C relay -s eventrelay >"$TMP/relay-build.log" 2>&1; then
		curl -fsS -X POST "$AWS_ENDPOINT_URL/moto-api/reset" >/dev/null
		sh docker/demo/setup.sh >"$TMP/setup2.log" 2>&1
		mport=$(es_free_port)
		python3 - "$TMP/config.yml" "$PGPORT" "$port" "$mport" >"$TMP/relay.args" <<'PY'
import shlex, sys, yaml
cfg, pgport, awsport, mport = yaml.safe_load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
relay = cfg["services"]["relay"]
env = {k: str(v) for k, v in relay["environment"].items()}
env["EVENTRELAY_DBNAME"] = env["EVENTRELAY_DBNAME"].replace("host=postgres port=5432", "host=127.0.0.1 port=" + pgport)
for k in ("AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_S3"):
    env[k] = env[k].replace(":5000", ":" + awsport)
args = [a.replace("--metrics-port=9187", "--metrics-port=" + mport).replace("--metrics-address=0.0.0.0", "--metrics-address=127.0.0.1")
        for a in relay["command"]]
print(" ".join("%s=%s" % (k, shlex.quote(v)) for k, v in sorted(env.items())))
print(" ".join(shlex.quote(a) for a in args))
PY
		# The relay logs in with the password the init script set ("relay-pw" here).
		sed -i 's/password=relay /password=relay-pw /' "$TMP/relay.args"
		# (the & inside the eval: $! is the relay itself, env execs it)
		eval "env $(sed -n 1p "$TMP/relay.args") relay/eventrelay $(sed -n 2p "$TMP/relay.args") \
			</dev/null >'$TMP/relay.log' 2>&1 &"
		relay_pid=$!
		es_on_exit "kill -9 $relay_pid"
		for _ in $(seq 1 150); do
			[[ $(es_psql -d app -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'demo'") == 1 ]] && break
			kill -0 "$relay_pid" 2>/dev/null || break
			sleep 0.2
		done
		if [[ $(es_psql -d app -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'demo'") == 1 ]]; then
			es_ok "the relay, run with the compose file's command, creates its slot"
		else
			tail -n 20 "$TMP/relay.log"
			es_not_ok "the relay, run with the compose file's command, creates its slot"
		fi
		PGUSER=writer PGDATABASE=app CLIENTS=2 CARTS=1 ITEMS=2 DELAY=0 sh docker/demo/writer.sh >"$TMP/writer2.log" 2>&1
		IDLE_EXIT=3 POLL=1 REPORT_EVERY=600 timeout 120 sh docker/demo/reader.sh >"$TMP/reader2.log" 2>&1 || true
		es_eq "the writer's 10 new events arrive in Kinesis through the relay" 10 \
			"$(grep -c '"aggregate_type":"cart"' "$TMP/reader2.log" || true)"
		# A scraper retries at its next interval: the relay answers from its
		# main loop, which a slow S3 request of the stand-in (synchronous there)
		# can hold for seconds on a loaded machine.
		scraped=0
		for _ in 1 2 3 4; do
			if curl -fsS --max-time 5 "http://127.0.0.1:$mport/metrics" 2>/dev/null | grep -q '^eventrelay_'; then
				scraped=1
				break
			fi
			sleep 1
		done
		if ((scraped)); then
			es_ok "the relay serves its metrics"
		else
			tail -n 20 "$TMP/relay.log"
			es_not_ok "the relay serves its metrics"
		fi
		# SIGTERM (docker compose stop): the relay flushes the S3 object it holds.
		kill -TERM "$relay_pid" 2>/dev/null || true
		for _ in $(seq 1 300); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
		rc=0
		wait "$relay_pid" || rc=$?
		es_eq "the relay stops cleanly on SIGTERM" 0 "$rc"
		objects=$(aws s3api list-objects-v2 --bucket event-archive --prefix events/ --query 'length(Contents || `[]`)' --output text)
		if [[ $objects =~ ^[0-9]+$ ]] && ((objects >= 1)); then
			es_ok "the archive has objects under events/ ($objects)"
		else
			es_not_ok "the archive has objects under events/ (got '$objects')"
		fi
		errors=$(grep -c '"level":"error"' "$TMP/relay.log" || true)
		((errors == 0)) || grep '"level":"error"' "$TMP/relay.log" | head -n 5
		es_eq "the relay logged no errors" 0 "$errors"
	else
		es_log "relay not built (or no cluster): the compose relay command was not run"
	fi
else
	es_log "moto_server or aws not installed: setup.sh and reader.sh not run"
fi

es_done
