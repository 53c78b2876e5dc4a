#!/usr/bin/env bash
#
# t_relay_standby.sh - two relays for one slot (--standby): one streams, the
# other stands by (the slot in use is the lock; it looks again every second)
# and takes over when the first dies.  Writers append events while the
# active relay is killed with SIGKILL again and again (the killed one is
# restarted and becomes the standby); each takeover is timed from the kill to
# the other relay's "took over the slot" line.  Read back with the AWS CLI
# from kinesalite: nothing missing, first deliveries in version order per
# aggregate; duplicates (the unacknowledged tail of each killed relay) are
# counted and printed per kill.
# RELAY_STANDBY_KILLS (default 6) sets the number of kills.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need aws jq python3 node
RELAY=$(es_relay_bin)
# the walsender of a relay killed on another host is ended after this long
es_cluster_start "wal_sender_timeout = '10s'"
es_psql -c 'CREATE EXTENSION eventstore'
es_kinesalite_start
es_kinesis_create "$ES_KINESALITE_URL" events 2
TMP=$ES_TMP
KILLS=${RELAY_STANDBY_KILLS:-6}

declare -A PID=()
start_relay() { # start_relay a|b
	"$RELAY" --dbname "$(es_relay_dsn) keepalives_idle=5 keepalives_interval=2 keepalives_count=2" \
		--slot standby --create-slot --standby --state-file "$TMP/state-$1" \
		--stream events --endpoint-url "$ES_KINESALITE_URL" --region us-east-1 \
		--linger-ms 5 --status-interval 1 --reconnect-max 1 --dead-letter "$TMP/dl-$1.ndjson" \
		2>>"$TMP/relay-$1.log" &
	PID[$1]=$!
}
es_on_exit 'kill -9 ${PID[a]} ${PID[b]}'
count() { grep -c "\"pid\":$2,\"msg\":\"$3" "$TMP/relay-$1.log" || true; }

start_relay a
for ((i = 0; i < 100; i++)); do
	(($(count a "${PID[a]}" streaming) >= 1)) && break
	sleep 0.1
done
(($(count a "${PID[a]}" streaming) >= 1)) || es_die "relay a did not start streaming: $(tail -n 5 "$TMP/relay-a.log")"
start_relay b
for ((i = 0; i < 50; i++)); do
	(($(count b "${PID[b]}" "the slot is in use") >= 1)) && break
	sleep 0.1
done
es_eq "the second relay stands by while the first streams" 1 "$(count b "${PID[b]}" "the slot is in use")"
es_eq "the standby does not stream" 0 "$(count b "${PID[b]}" streaming)"
kill -0 "${PID[b]}" 2>/dev/null && es_ok "the standby keeps running (no exit while the slot is in use)" ||
	es_not_ok "the standby exited: $(tail -n 3 "$TMP/relay-b.log")"

es_psql -c "SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(a::text, 12, '0'))::uuid, 'cart', 0,
              '[{\"type\":\"Opened\"}]') FROM generate_series(1, 400) a" >/dev/null
cat >"$TMP/append.sql" <<'SQL'
\set a random(1, 400)
\set n random(1, 3)
SELECT eventstore.append(('00000000-0000-4000-8000-' || lpad(:a::text, 12, '0'))::uuid, 'cart', NULL,
       (SELECT jsonb_agg(jsonb_build_object('type', 'ItemAdded', 'data', jsonb_build_object('i', g)))
          FROM generate_series(1, :n) g));
SQL
"$PGBIN/pgbench" -n -c 4 -j 2 -T $((KILLS * 3 + 4)) -R 150 -f "$TMP/append.sql" >"$TMP/pgbench.log" 2>&1 &
W=$!

active=a
standby=b
takeovers=()
worst=0
for ((k = 1; k <= KILLS; k++)); do
	sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 1.5 + (r % 100) / 100}')"
	before=$(count "$standby" "${PID[$standby]}" "took over")
	t0=$(date +%s%N)
	kill -9 "${PID[$active]}"
	wait "${PID[$active]}" 2>/dev/null || true
	took=
	for ((i = 0; i < 300; i++)); do
		if (($(count "$standby" "${PID[$standby]}" "took over") > before)); then
			took=$((($(date +%s%N) - t0) / 1000000))
			break
		fi
		sleep 0.05
	done
	[[ -n $took ]] || es_die "relay $standby did not take over within 15 s: $(tail -n 5 "$TMP/relay-$standby.log")"
	takeovers+=("$took")
	((took > worst)) && worst=$took
	start_relay "$active" # the killed one comes back as the standby
	t=$active
	active=$standby
	standby=$t
done
wait "$W" || es_die "writers failed: $(tail -n 5 "$TMP/pgbench.log")"
es_ok "the active relay was killed $KILLS times; takeovers (ms): ${takeovers[*]}"
es_check "every takeover within 5 s (worst $worst ms)" test "$worst" -lt 5000

es_check "the relays caught up" es_wait_caught_up standby 60
kill -TERM "${PID[a]}" "${PID[b]}"
wait "${PID[a]}" 2>/dev/null || true
wait "${PID[b]}" 2>/dev/null || true

es_kinesis_read "$ES_KINESALITE_URL" events >"$TMP/read.ndjson"
result=$(es_check_events "$TMP/read.ndjson") && ok=1 || ok=0
dups=$(sed -E 's/.* dups=([0-9]+).*/\1/' <<<"$result")
echo "# $result"
echo "# standby relay: $KILLS kills, takeover ms ${takeovers[*]} (worst $worst), duplicates $dups ($(awk -v d="$dups" -v k="$KILLS" 'BEGIN{printf "%.1f", d / k}') per kill)"
es_eq "nothing lost, first deliveries in version order per aggregate" 1 "$ok"
es_check "no dead letters" test ! -s "$TMP/dl-a.ndjson" -a ! -s "$TMP/dl-b.ndjson"
es_done
