#!/usr/bin/env bash
#
# pgoutput_bench.sh - the relay's two decoders on the same WAL (results
# appended to bench/results/pgoutput_bench.txt):
#
#   throughput  eventrelay --sink stdout with the eventstore plugin, the same
#               with --decoder pgoutput (a publication on eventstore.events),
#               and pg_recvlogical --plugin=eventstore -f /dev/null: each has
#               its own slot, all made before the load; alternating, REPEATS
#               times; events/s, relay CPU per event, pgoutput / plugin ratio
#   bigtxn      one transaction of BIG_EVENTS (1,500,000) events through
#               --decoder pgoutput --sink stdout: the relay's RSS over time
#               (flat: events are streamed, never the transaction buffered)
#
#   bench/pgoutput_bench.sh [throughput|bigtxn|all]   (default all)
# Environment: N_EVENTS (300000), TXN_SIZE (10), REPEATS (3), BIG_EVENTS (1500000).
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tests/lib.sh"
source "$ROOT/tests/lib_aws.sh"
es_install_extension
RELAY=$(es_relay_bin)
N_EVENTS=${N_EVENTS:-300000}
TXN_SIZE=${TXN_SIZE:-10}
REPEATS=${REPEATS:-3}
BIG_EVENTS=${BIG_EVENTS:-1500000}
OUT=$ROOT/bench/results
mkdir -p "$OUT"
WHAT=${1:-all}

es_cluster_start "max_wal_size = 4GB" "wal_sender_timeout = 0"
es_psql -c 'CREATE EXTENSION eventstore' \
	-c "CREATE PUBLICATION eventstore_events FOR TABLE eventstore.events WITH (publish = 'insert')" >/dev/null
TMP=$ES_TMP
DSN=$(es_relay_dsn)
say() { echo "$*" | tee -a "$OUT/pgoutput_bench.txt"; }
say "== pgoutput_bench $(date -u +%FT%TZ) $(nproc) cores, PostgreSQL $(es_pg_version), $WHAT, commit $(git -C "$ROOT" rev-parse --short HEAD)"

# load EVENTS TXN_SIZE: EVENTS events as transactions of TXN_SIZE (4 clients, or 1 for one transaction)
load() {
	local n=$1 k=$2 c=4 txns
	((k >= n)) && c=1
	txns=$((n / k / c))
	"$PGBIN/pgbench" -n -c "$c" -j "$c" -t "$txns" -D k="$k" -D naggs=10000 \
		-f "$ROOT/bench/append_eventstore.pgbench" >"$TMP/pgbench.log" 2>&1 ||
		{
			tail "$TMP/pgbench.log"
			es_die "pgbench failed"
		}
	echo $((txns * c * k))
}

# timed CMD...: run, print "wall cpu(user+sys) maxrss_kb"
timed() {
	/usr/bin/time -f '%e %U %S %M' -o "$TMP/time.txt" "$@" >/dev/null 2>"$TMP/cmd.err" ||
		{
			tail -n 5 "$TMP/cmd.err" >&2
			return 1
		}
	awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$TMP/time.txt"
}

if [[ $WHAT == throughput || $WHAT == all ]]; then
	for ((r = 1; r <= REPEATS; r++)); do
		es_psql -c "SELECT pg_create_logical_replication_slot('recv_$r', 'eventstore'),
		                   pg_create_logical_replication_slot('plug_$r', 'eventstore'),
		                   pg_create_logical_replication_slot('pgo_$r', 'pgoutput')" >/dev/null
	done
	n=$(load "$N_EVENTS" "$TXN_SIZE")
	end=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
	say "throughput: $n events in transactions of $TXN_SIZE, WAL up to $end"
	for ((r = 1; r <= REPEATS; r++)); do
		read -r w0 c0 m0 < <(timed "$PGBIN/pg_recvlogical" -d "$DSN" --slot "recv_$r" --start \
			--endpos "$end" -f /dev/null --no-loop)
		read -r w1 c1 m1 < <(timed "$RELAY" --dbname "$DSN" --slot "plug_$r" --sink stdout \
			--end-lsn "$end" --log-level warn)
		read -r w2 c2 m2 < <(timed "$RELAY" --dbname "$DSN" --slot "pgo_$r" --decoder pgoutput \
			--sink stdout --end-lsn "$end" --log-level warn)
		say "$(awk -v n="$n" -v w0="$w0" -v c0="$c0" -v w1="$w1" -v c1="$c1" -v m1="$m1" \
			-v w2="$w2" -v c2="$c2" -v m2="$m2" 'BEGIN {
			printf "  run: pg_recvlogical %.2f s %.0f ev/s cpu %.2f s | relay plugin %.2f s %.0f ev/s cpu %.2f us/ev rss %d KB | relay pgoutput %.2f s %.0f ev/s cpu %.2f us/ev rss %d KB | pgoutput/plugin %.2f\n",
			w0, n / w0, c0, w1, n / w1, c1 * 1e6 / n, m1, w2, n / w2, c2 * 1e6 / n, m2, w1 / w2 }')"
	done
	say "  command: pg_recvlogical -d DSN --slot S --start --endpos LSN -f /dev/null --no-loop"
	say "  command: eventrelay --dbname DSN --slot S [--decoder pgoutput] --sink stdout --end-lsn LSN > /dev/null"
fi

if [[ $WHAT == bigtxn || $WHAT == all ]]; then
	es_psql -c "SELECT pg_create_logical_replication_slot('big', 'pgoutput')" >/dev/null
	n=$(load "$BIG_EVENTS" "$BIG_EVENTS")
	end=$(es_psql -c "SELECT pg_current_wal_insert_lsn()")
	t0=$SECONDS
	"$RELAY" --dbname "$DSN" --slot big --decoder pgoutput --sink stdout --end-lsn "$end" \
		--log-level warn | wc -l >"$TMP/big.count" &
	sleep 0.2
	rp=$(pgrep -n -f -- "--slot big --decoder pgoutput" || true)
	: >"$TMP/rss.txt"
	while [[ -n $rp ]] && kill -0 "$rp" 2>/dev/null; do
		awk '/VmRSS/ {print $2}' "/proc/$rp/status" 2>/dev/null >>"$TMP/rss.txt" || true
		sleep 0.5
	done
	wait
	say "$(awk -v n="$n" -v got="$(cat "$TMP/big.count")" -v secs=$((SECONDS - t0)) 'NF { v[NR] = $1; c = NR } END {
		min = 1e18; max = 0; for (i = 1; i <= c; i++) { if (v[i] < min) min = v[i]; if (v[i] > max) max = v[i] }
		printf "bigtxn: 1 transaction of %d events, %d relayed by --decoder pgoutput --sink stdout in %d s: RSS samples %d, first %d KB, at 50%% %d KB, last %d KB, max %d KB\n",
		n, got, secs, c, v[1], v[int(c / 2) + 1], v[c], max }' "$TMP/rss.txt")"
fi
