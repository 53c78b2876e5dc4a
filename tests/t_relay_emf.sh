#!/usr/bin/env bash
#
# t_relay_emf.sh - the relay's lag as CloudWatch Embedded Metric Format lines
# (--metrics-emf-interval): a relay (stdout sink, no AWS needed) against a
# server with max_slot_wal_keep_size writes, every second, lines on stderr
# that are whole JSON objects, read back with python's json and checked
# against the EMF specification (the _aws directive, the Slot dimension, a
# number for every declared metric, Timestamp in milliseconds of now); the
# WAL metrics appear once the WAL safety check has looked (RetainedWalBytes,
# SafeWalBytes below max_slot_wal_keep_size); the Prometheus endpoint says
# the same lag; and once the server is gone the lines stop (a relay that
# cannot stream publishes no data, which the Terraform alarm treats as
# breaching).  The lines do not depend on the decoder, so the store is the
# SQL flavour's plain script read through pgoutput: no C extension to
# install for this test.
set -Eeuo pipefail
export EVENTRELAY_DECODER=pgoutput
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need python3 curl
RELAY=$(es_relay_bin)
es_cluster_start "max_slot_wal_keep_size = '64MB'"
es_psql -f "$ES_ROOT/sql/managed/eventstore-plain.sql" >/dev/null
es_relay_prepare
TMP=$ES_TMP

MPORT=$(es_free_port)
"$RELAY" --dbname "$(es_relay_dsn)" --slot emf_slot --create-slot --sink stdout \
	--metrics-emf-interval 1 --metrics-emf-namespace EventStore/Relay --wal-check-interval 1 \
	--metrics-port "$MPORT" --status-interval 1 --shutdown-timeout 1 --reconnect-max 1 \
	--dead-letter "$TMP/dl.ndjson" >"$TMP/out.ndjson" 2>"$TMP/relay.log" &
RELAY_PID=$!
es_on_exit "kill -9 $RELAY_PID"
for ((i = 0; i < 100; i++)); do
	[[ $(es_psql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'emf_slot'") == 1 ]] && break
	sleep 0.1
done
es_psql -c "SELECT eventstore.append(gen_random_uuid(), 'cart', 0, '[{\"type\":\"Opened\"},{\"type\":\"Closed\"}]') FROM generate_series(1, 10)" >/dev/null

# check_emf [WAL]: every EMF line of the log valid; at least 2 (and with WAL,
# one that has the WAL metrics). Prints the last line checked.
check_emf() {
	python3 - "$TMP/relay.log" "${1:-}" <<'PY'
import json, sys, time
path, want_wal = sys.argv[1], sys.argv[2] == "wal"
units = {"LagSeconds": "Seconds", "LagBytes": "Bytes", "RetainedWalBytes": "Bytes", "SafeWalBytes": "Bytes"}
now_ms = time.time() * 1000
n = wal = 0
last = None
for raw in open(path, encoding="utf-8"):
    if '"_aws"' not in raw:
        continue
    line = raw.rstrip("\n")
    d = json.loads(line)  # the whole line is the object: nothing before or after it
    assert isinstance(d, dict), line
    aws = d["_aws"]
    assert set(aws) == {"Timestamp", "CloudWatchMetrics"}, line
    ts = aws["Timestamp"]
    assert isinstance(ts, int) and abs(now_ms - ts) < 120000, f"Timestamp {ts} is not milliseconds of now"
    (directive,) = aws["CloudWatchMetrics"]
    assert set(directive) == {"Namespace", "Dimensions", "Metrics"}, line
    assert directive["Namespace"] == "EventStore/Relay", line
    assert directive["Dimensions"] == [["Slot"]], line
    assert d["Slot"] == "emf_slot", line
    names = []
    for m in directive["Metrics"]:
        assert set(m) == {"Name", "Unit"} and units[m["Name"]] == m["Unit"], line
        v = d[m["Name"]]
        assert isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0, line
        names.append(m["Name"])
    assert names[:2] == ["LagSeconds", "LagBytes"], line
    if "RetainedWalBytes" in names:
        assert "SafeWalBytes" in names, "max_slot_wal_keep_size is set: SafeWalBytes expected"
        # safe_wal_size counts from the segment boundary: about the limit, never far above
        assert 0 < d["SafeWalBytes"] <= 2 * 64 * 1024 * 1024, line
        assert d["WalStatus"] == "reserved", line
        wal += 1
    n += 1
    last = line
assert n >= 2, f"{n} EMF lines"
assert wal >= 1 or not want_wal, "no line with the WAL metrics"
print(last)
PY
}
wait_emf() { # wait_emf [wal]
	local i
	for ((i = 0; i < 100; i++)); do
		check_emf "$@" >"$TMP/emf.last" 2>"$TMP/emf.err" && return 0
		sleep 0.1
	done
	cat "$TMP/emf.err" >&2
	return 1
}
es_check "EMF lines on stderr: valid JSON, the directive, Slot dimension, numeric LagSeconds" wait_emf
es_check "with the WAL metrics once the slot was looked at (RetainedWalBytes, SafeWalBytes)" wait_emf wal
echo "# $(cat "$TMP/emf.last")"
es_wait_caught_up emf_slot 30 || es_die "the relay did not catch up"
es_eq "the events went to the sink too" 20 "$(wc -l <"$TMP/out.ndjson")"
caught_up_line() { # the newest EMF line says no lag
	tail -n 50 "$TMP/relay.log" | grep '"_aws"' | tail -n 1 |
		python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); sys.exit(not (d["LagSeconds"] == 0 and d["LagBytes"] < 1048576))'
}
wait_caught_up_line() {
	local i
	for ((i = 0; i < 50; i++)); do caught_up_line && return 0; sleep 0.2; done
	return 1
}
es_check "caught up: a line with LagSeconds 0 and LagBytes under 1 MB" wait_caught_up_line
es_check "every other stderr line is still a log line" \
	python3 -c 'import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    assert "_aws" in d or ("level" in d and "msg" in d), l' "$TMP/relay.log"
lag_prom=$(curl -fsS "http://127.0.0.1:$MPORT/metrics" | awk '$1 == "eventrelay_lag_bytes" {print $2}')
es_check "the Prometheus endpoint still answers (lag_bytes $lag_prom)" test -n "$lag_prom"

# The server goes away: the relay retries, and writes no EMF line meanwhile.
es_as_pg "$PGBIN/pg_ctl" -D "$ES_PGDATA" -m immediate -w stop >/dev/null
for ((i = 0; i < 50; i++)); do
	grep -q 'replication stream interrupted' "$TMP/relay.log" && break
	sleep 0.1
done
sleep 1.2 # a line already due may still be written
before=$(grep -c '"_aws"' "$TMP/relay.log")
sleep 3
es_eq "no EMF line while the relay cannot stream" "$before" "$(grep -c '"_aws"' "$TMP/relay.log")"
kill -0 "$RELAY_PID" 2>/dev/null && es_ok "the relay keeps retrying" || es_not_ok "the relay keeps retrying"

es_done
