#!/usr/bin/env bash
#
# relay_bench.sh - eventrelay benchmarks (results appended to bench/results/relay_*.txt):
#
#   throughput  relay --sink stdout > /dev/null vs
#               pg_recvlogical --plugin=eventstore -f /dev/null over the same WAL
#               (each run consumes its own slot, created before the load),
#               alternating, REPEATS times; events/s and the ratio
#   kinesis     relay -> kinesalite: CPU per event of the Kinesis path (signing,
#               JSON, HTTP), and relay -> moto_server with signature checks
#   latency     commit -> record readable from kinesalite at a steady RATE events/s
#               (1 event per transaction), p50/p90/p99
#   memory      relay --sink stdout over 1,000,000 events: RSS over time
#
#   bench/relay_bench.sh [throughput|kinesis|latency|memory|all]   (default all)
# Environment: N_EVENTS (300000), TXN_SIZE (10), REPEATS (3), RATE (1000),
# LAT_SECONDS (20), MEM_EVENTS (1000000), RELAY_BIN (default: this tree's relay).
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/lib_aws.sh"
es_install_extension
RELAY=${RELAY_BIN:-$(es_relay_bin)} # RELAY_BIN: another build (a baseline)
N_EVENTS=${N_EVENTS:-300000}
TXN_SIZE=${TXN_SIZE:-10}
REPEATS=${REPEATS:-3}
RATE=${RATE:-1000}
LAT_SECONDS=${LAT_SECONDS:-20}
MEM_EVENTS=${MEM_EVENTS:-1000000}
OUT=$ROOT/bench/results
mkdir -p "$OUT"
WHAT=${1:-all}

es_cluster_start "max_wal_size = 4GB" "wal_sender_timeout = 0"
es_psql -c 'CREATE EXTENSION eventstore'
TMP=$ES_TMP
DSN=$(es_relay_dsn)
say() { echo "$*" | tee -a "$OUT/relay_bench.txt"; }
say "== relay_bench $(date -u +%FT%TZ) $(nproc) cores, $WHAT"

# load N events as N/TXN_SIZE transactions of TXN_SIZE events (4 clients)
load() { # load EVENTS TXN_SIZE
	local n=$1 k=$2 txns
	txns=$((n / k / 4))
	"$PGBIN/pgbench" -n -c 4 -j 2 -t "$txns" -D k="$k" -D naggs=10000 \
		-f "$ROOT/bench/append_eventstore.pgbench" >"$TMP/pgbench.log" 2>&1 ||
		{
			tail "$TMP/pgbench.log"
			es_die "pgbench failed"
		}
	echo $((txns * 4 * k))
}

# timed CMD...: run, print "wall user sys maxrss_kb"
timed() {
	/usr/bin/time -f '%e %U %S %M' -o "$TMP/time.txt" "$@" >/dev/null 2>"$TMP/cmd.err" ||
		{
			tail -n 5 "$TMP/cmd.err" >&2
			return 1
		}
	cat "$TMP/time.txt"
}

if [[ $WHAT == throughput || $WHAT == all ]]; then
	for ((r = 1; r <= REPEATS; r++)); do
		es_psql -c "SELECT pg_create_logical_replication_slot('recv_$r', 'eventstore'),
		                   pg_create_logical_replication_slot('relay_$r', 'eventstore')" >/dev/null
	done
	n=$(load "$N_EVENTS" "$TXN_SIZE")
	end=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
	say "throughput: $n events in transactions of $TXN_SIZE, WAL up to $end"
	for ((r = 1; r <= REPEATS; r++)); do
		read -r w1 u1 s1 m1 < <(timed "$PGBIN/pg_recvlogical" -d "$DSN" --slot "recv_$r" --start \
			--endpos "$end" -f /dev/null --no-loop)
		read -r w2 u2 s2 m2 < <(timed "$RELAY" --dbname "$DSN" --slot "relay_$r" --sink stdout \
			--end-lsn "$end" --log-level warn)
		say "$(awk -v n="$n" -v w1="$w1" -v w2="$w2" -v c1="$(echo "$u1 + $s1" | bc)" -v c2="$(echo "$u2 + $s2" | bc)" -v m1="$m1" -v m2="$m2" 'BEGIN {
			printf "  run: pg_recvlogical %.2f s %.0f ev/s cpu %.2f s rss %d KB | eventrelay %.2f s %.0f ev/s cpu %.2f s rss %d KB | ratio %.2f\n",
			w1, n / w1, c1, m1, w2, n / w2, c2, m2, (n / w2) / (n / w1) }')"
	done
	say "  command: pg_recvlogical -d DSN --slot S --start --endpos LSN -f /dev/null --no-loop"
	say "  command: eventrelay --dbname DSN --slot S --sink stdout --end-lsn LSN > /dev/null"
fi

if [[ $WHAT == kinesis || $WHAT == all ]]; then
	es_kinesalite_start
	es_kinesis_create "$ES_KINESALITE_URL" bench 4
	kn=${KINESIS_EVENTS:-60000}
	es_psql -c "SELECT pg_create_logical_replication_slot('kin', 'eventstore'),
	                   pg_create_logical_replication_slot('kin_stdout', 'eventstore')" >/dev/null
	n=$(load "$kn" "$TXN_SIZE")
	end=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
	read -r w u s m < <(timed "$RELAY" --dbname "$DSN" --slot kin --sink kinesis --stream bench \
		--endpoint-url "$ES_KINESALITE_URL" --region us-east-1 --end-lsn "$end" --log-level warn \
		--dead-letter "$TMP/dl.ndjson")
	read -r w0 u0 s0 m0 < <(timed "$RELAY" --dbname "$DSN" --slot kin_stdout --sink stdout \
		--end-lsn "$end" --log-level warn)
	say "$(awk -v n="$n" -v w="$w" -v c="$(echo "$u + $s" | bc)" -v c0="$(echo "$u0 + $s0" | bc)" -v m="$m" 'BEGIN {
		printf "kinesis (kinesalite, 4 shards): %d events in %.2f s = %.0f ev/s; relay CPU %.2f s = %.1f us/event (stdout sink on the same WAL: %.1f us/event, so the Kinesis path adds %.1f us/event); max RSS %d KB\n",
		n, w, n / w, c, c * 1e6 / n, c0 * 1e6 / n, (c - c0) * 1e6 / n, m }')"
	say "  command: eventrelay --sink kinesis --stream bench --endpoint-url KINESALITE --end-lsn LSN"
	if command -v moto_server >/dev/null; then
		es_moto_start
		es_kinesis_create "$ES_MOTO_URL" bench 4
		es_psql -c "SELECT pg_create_logical_replication_slot('moto', 'eventstore')" >/dev/null
		mn=$(load "${MOTO_EVENTS:-20000}" "$TXN_SIZE")
		end=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
		read -r w u s m < <(timed "$RELAY" --dbname "$DSN" --slot moto --sink kinesis --stream bench \
			--endpoint-url "$ES_MOTO_URL" --region us-east-1 --end-lsn "$end" --log-level warn \
			--dead-letter "$TMP/dl.ndjson")
		say "$(awk -v n="$mn" -v w="$w" -v c="$(echo "$u + $s" | bc)" 'BEGIN {
			printf "kinesis (moto_server, IAM signature checks on): %d events in %.2f s = %.0f ev/s; relay CPU %.1f us/event\n",
			n, w, n / w, c * 1e6 / n }')"
	fi
fi

if [[ $WHAT == latency || $WHAT == all ]]; then
	[[ -n ${ES_KINESALITE_URL:-} ]] || es_kinesalite_start
	es_kinesis_create "$ES_KINESALITE_URL" lat 1
	"$RELAY" --dbname "$DSN" --slot lat --create-slot --sink kinesis --stream lat \
		--endpoint-url "$ES_KINESALITE_URL" --region us-east-1 --log-level warn \
		--dead-letter "$TMP/dl.ndjson" 2>"$TMP/lat-relay.log" &
	rp=$!
	es_on_exit "kill $rp"
	python3 "$ROOT/bench/relay_latency_reader.py" --endpoint "$ES_KINESALITE_URL" --stream lat \
		--seconds "$((LAT_SECONDS + 3))" --ready "$TMP/ready" >"$TMP/lat.txt" &
	lr=$!
	for ((i = 0; i < 100; i++)); do [[ -f $TMP/ready ]] && break; sleep 0.1; done
	cat >"$TMP/one.sql" <<'SQL'
SELECT eventstore.append(gen_random_uuid(), 'cart', 0, '[{"type":"ItemAdded","data":{"sku":"A-1","qty":2}}]');
SQL
	"$PGBIN/pgbench" -n -c 4 -j 2 -R "$RATE" -T "$LAT_SECONDS" -f "$TMP/one.sql" >"$TMP/pgbench-lat.log" 2>&1
	wait "$lr"
	# relay CPU (user + system ticks) over the whole run, per event appended
	ticks=$(awk '{print $14 + $15}' "/proc/$rp/stat")
	nev=$(es_psql -c "SELECT count(*) FROM eventstore.events WHERE aggregate_type = 'cart'")
	cpu_us=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$nev" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
	read -r ln p50 p90 p99 pmax <"$TMP/lat.txt"
	rate=$(grep -o 'tps = [0-9.]*' "$TMP/pgbench-lat.log" | head -1 | cut -d' ' -f3)
	say "latency commit -> readable from kinesalite at ${rate:-?} events/s (1 event/txn, relay defaults): n=$ln p50 ${p50} ms, p90 ${p90} ms, p99 ${p99} ms, max ${pmax} ms; relay CPU ${cpu_us} us/event ($nev events)"
	say "  command: pgbench -R $RATE -T $LAT_SECONDS (eventstore.append of 1 event) | eventrelay --sink kinesis (defaults) | bench/relay_latency_reader.py"
	kill "$rp" 2>/dev/null || true
fi

if [[ $WHAT == memory || $WHAT == all ]]; then
	es_psql -c "SELECT pg_create_logical_replication_slot('mem', 'eventstore')" >/dev/null
	n=$(load "$MEM_EVENTS" 100)
	end=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
	"$RELAY" --dbname "$DSN" --slot mem --sink stdout --end-lsn "$end" --log-level warn >/dev/null &
	rp=$!
	: >"$TMP/rss.txt"
	while kill -0 "$rp" 2>/dev/null; do
		awk '/VmRSS/ {print $2}' "/proc/$rp/status" 2>/dev/null >>"$TMP/rss.txt" || true
		sleep 0.2
	done
	wait "$rp" || true
	say "$(awk -v n="$n" 'NF { v[NR] = $1; c = NR } END {
		min = 1e18; max = 0; for (i = 1; i <= c; i++) { if (v[i] < min) min = v[i]; if (v[i] > max) max = v[i] }
		printf "memory: %d events (transactions of 100) through --sink stdout: RSS samples %d, first %d KB, at 50%% %d KB, last %d KB, min %d KB, max %d KB\n",
		n, c, v[1], v[int(c / 2) + 1], v[c], min, max }' "$TMP/rss.txt")"
fi
