# shellcheck shell=bash
#
# tests/lib_aws.sh - AWS stand-ins for the relay's integration tests, all on
# 127.0.0.1 with free ports, stopped at exit (source tests/lib.sh first).
#
#   es_moto_start              moto_server with IAM signature checking on and a
#                              user whose access key is exported (AWS_ACCESS_KEY_ID,
#                              AWS_SECRET_ACCESS_KEY); sets ES_MOTO_URL
#   es_kinesalite_start        kinesalite (fast, no signature check); ES_KINESALITE_URL
#   es_fault_proxy_start UPSTREAM_URL [ARGS...]
#                              tests/fault_proxy.py in front of an emulator;
#                              ES_PROXY_PORT, ES_PROXY_URL, ES_PROXY_PID
#   es_kinesis_create URL STREAM [SHARDS]
#   es_kinesis_read URL STREAM > FILE   every record's data, one per line, shard by shard
#   es_relay_bin               builds relay/eventrelay if needed, prints its path
#   es_check_events FILE       compares FILE (envelopes in stream order) with the
#                              events table: prints missing/duplicates/order errors
#
# The AWS CLI (v1 or v2) is the independent reader.

export AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS

# es_need CMD...: exit 77 (skip) if a tool is missing.
es_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || {
			echo "skipped: $c is not installed (scripts/deps.sh aws node)"
			exit 77
		}
	done
}

es_aws() { aws "$@"; }

es_moto_start() {
	es_need moto_server aws jq
	local port tmp pid try
	tmp=$(es_tmpdir)
	# A free port can be taken by someone else before moto binds it: check that
	# it is our moto answering, and try another port if not.
	for try in 1 2 3; do
		port=$(es_free_port)
		moto_server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
		pid=$!
		es_on_exit "kill $pid"
		if es_wait_port "$port" 30 && kill -0 "$pid" 2>/dev/null &&
			curl -fsS "http://127.0.0.1:$port/moto-api/data.json" >/dev/null 2>&1; then
			break
		fi
		kill "$pid" 2>/dev/null || true
		((try == 3)) && es_die "moto_server did not start (see $tmp/moto.log)"
	done
	ES_MOTO_URL=http://127.0.0.1:$port
	# A user with a policy, and its access key; then switch signature checks on.
	AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap \
		aws --endpoint-url "$ES_MOTO_URL" iam create-user --user-name eventrelay >/dev/null ||
		es_die "moto: create-user failed"
	AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap \
		aws --endpoint-url "$ES_MOTO_URL" iam put-user-policy --user-name eventrelay \
		--policy-name all --policy-document \
		'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' ||
		es_die "moto: put-user-policy failed"
	AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap \
		aws --endpoint-url "$ES_MOTO_URL" iam create-access-key --user-name eventrelay \
		>"$tmp/moto-key.json" || es_die "moto: create-access-key failed"
	AWS_ACCESS_KEY_ID=$(jq -r .AccessKey.AccessKeyId "$tmp/moto-key.json")
	AWS_SECRET_ACCESS_KEY=$(jq -r .AccessKey.SecretAccessKey "$tmp/moto-key.json")
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	curl -fsS -X POST -H 'Content-Type: text/plain' --data 0 "$ES_MOTO_URL/moto-api/reset-auth" \
		>/dev/null || es_die "moto: could not switch IAM auth on"
	export ES_MOTO_URL
}

es_kinesalite_start() {
	es_need node aws jq
	local port tmp
	tmp=$(es_tmpdir)
	[[ -d $ES_ROOT/tests/node_modules/kinesalite ]] || {
		echo "skipped: kinesalite is not installed (scripts/deps.sh node)"
		exit 77
	}
	local pid try
	for try in 1 2 3; do
		port=$(es_free_port)
		NODE_PATH=$ES_ROOT/tests/node_modules node -e \
			"require('kinesalite')({createStreamMs:0,deleteStreamMs:0,updateStreamMs:0}).listen($port,'127.0.0.1')" \
			>"$tmp/kinesalite.log" 2>&1 &
		pid=$!
		es_on_exit "kill $pid"
		if es_wait_port "$port" 30 && sleep 0.2 && kill -0 "$pid" 2>/dev/null; then
			break
		fi
		kill "$pid" 2>/dev/null || true
		((try == 3)) && es_die "kinesalite did not start (see $tmp/kinesalite.log)"
	done
	ES_KINESALITE_URL=http://127.0.0.1:$port
	export ES_KINESALITE_URL
	export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-AKIDKINESALITE} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-kinesalite}
}

# es_fault_proxy_start UPSTREAM_URL [fault_proxy.py args...]; reuses ES_PROXY_PORT if set.
es_fault_proxy_start() {
	local up=$1 tmp
	shift
	tmp=$(es_tmpdir)
	ES_PROXY_PORT=${ES_PROXY_PORT:-$(es_free_port)}
	python3 "$ES_ROOT/tests/fault_proxy.py" --listen "$ES_PROXY_PORT" --upstream "$up" \
		--stats "$tmp/proxy-stats.json" "$@" >>"$tmp/proxy.log" 2>&1 &
	ES_PROXY_PID=$!
	es_on_exit "kill $ES_PROXY_PID"
	es_wait_port "$ES_PROXY_PORT" 20 || es_die "fault proxy did not start"
	ES_PROXY_URL=http://127.0.0.1:$ES_PROXY_PORT
	export ES_PROXY_PORT ES_PROXY_URL ES_PROXY_PID
}

es_fault_proxy_stop() {
	if [[ -n ${ES_PROXY_PID:-} ]]; then
		kill "$ES_PROXY_PID" 2>/dev/null || true
		wait "$ES_PROXY_PID" 2>/dev/null || true
	fi
	ES_PROXY_PID=
}

# es_kinesis_create URL STREAM [SHARDS]
es_kinesis_create() {
	local url=$1 stream=$2 shards=${3:-2} i st
	aws --endpoint-url "$url" kinesis create-stream --stream-name "$stream" --shard-count "$shards" ||
		es_die "create-stream $stream failed"
	for ((i = 0; i < 100; i++)); do
		st=$(aws --endpoint-url "$url" kinesis describe-stream-summary --stream-name "$stream" \
			--query StreamDescriptionSummary.StreamStatus --output text 2>/dev/null)
		[[ $st == ACTIVE ]] && return 0
		sleep 0.2
	done
	es_die "stream $stream did not become ACTIVE"
}

# es_kinesis_read URL STREAM: print every record's data (decoded), shard by shard,
# in sequence order, one per line.
es_kinesis_read() {
	local url=$1 stream=$2 shard it out n empty
	for shard in $(aws --endpoint-url "$url" kinesis list-shards --stream-name "$stream" \
		--query 'Shards[].ShardId' --output text); do
		it=$(aws --endpoint-url "$url" kinesis get-shard-iterator --stream-name "$stream" \
			--shard-id "$shard" --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
		empty=0
		while [[ -n $it && $it != None && $empty -lt 2 ]]; do
			out=$(aws --endpoint-url "$url" kinesis get-records --shard-iterator "$it" --limit 10000) ||
				es_die "get-records failed"
			n=$(jq '.Records | length' <<<"$out")
			if ((n == 0)); then empty=$((empty + 1)); else empty=0; fi
			jq -r '.Records[].Data | @base64d' <<<"$out"
			it=$(jq -r '.NextShardIterator // empty' <<<"$out")
		done
	done
}

es_relay_bin() {
	make -C "$ES_ROOT/relay" -s >/dev/null 2>&1 || make -C "$ES_ROOT/relay" >&2 || es_die "building the relay failed"
	echo "$ES_ROOT/relay/eventrelay"
}

# The relay's decoder: EVENTRELAY_DECODER=pgoutput (the tests t_*_pgoutput.sh
# set it) runs a test through pgoutput and a publication instead of the
# plugin; ES_RELAY_PLUGIN is the plugin of the slots a test makes itself.
ES_RELAY_PLUGIN=eventstore
[[ ${EVENTRELAY_DECODER:-} == pgoutput ]] && ES_RELAY_PLUGIN=pgoutput
# es_relay_prepare: after CREATE EXTENSION, what the decoder needs (pgoutput: the publication).
es_relay_prepare() {
	[[ $ES_RELAY_PLUGIN == pgoutput ]] || return 0
	es_psql -c "CREATE PUBLICATION eventstore_events FOR TABLE eventstore.events WITH (publish = 'insert')" >/dev/null
	es_log "relay decoder: pgoutput (publication eventstore_events)"
}

# es_relay_dsn: connection string of the test cluster for the relay.
es_relay_dsn() { echo "host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=$PGUSER"; }

# es_wait_caught_up SLOT [SECONDS]: wait until the slot confirmed everything written so far.
es_wait_caught_up() {
	local slot=$1 secs=${2:-60} target i
	target=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
	for ((i = 0; i < secs * 5; i++)); do
		if [[ $(es_psql -c "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = '$slot'") == t ]]; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# es_check_events FILE [max_dups]: FILE holds the envelopes read back, in stream
# order per shard.  Prints "missing=N dups=N order_errors=N extra=N events=N"
# and returns non-zero on missing, extra or order errors.
es_check_events() {
	local file=$1
	es_psql -c "SELECT aggregate_id || ' ' || version FROM eventstore.events" >"$file.expected"
	python3 - "$file" "$file.expected" <<'PY'
import json, sys
got, exp = sys.argv[1], sys.argv[2]
expected = set()
for line in open(exp):
    a, v = line.split()
    expected.add((a, int(v)))
seen, dups, order_err, extra, last = set(), 0, 0, 0, {}
for line in open(got):
    line = line.strip()
    if not line:
        continue
    e = json.loads(line)
    k = (e["aggregate_id"], int(e["version"]))
    if k in seen:
        dups += 1          # redelivery: allowed, counted
        continue
    seen.add(k)
    if k not in expected:
        extra += 1
    # first deliveries of an aggregate must come in version order, without gaps
    if k[1] != last.get(k[0], 0) + 1:
        order_err += 1
    last[k[0]] = k[1]
missing = len(expected - seen)
print("events=%d delivered=%d missing=%d dups=%d order_errors=%d extra=%d"
      % (len(expected), len(seen), missing, dups, order_err, extra))
sys.exit(1 if missing or order_err or extra else 0)
PY
}
