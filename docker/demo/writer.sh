#!/bin/sh
# writer.sh - one-shot: a few concurrent clients open shopping carts and add
# items to them through eventstore.append(aggregate_id, aggregate_type,
# expected_version, events), one transaction per append, with a short pause
# between appends so the events can be watched arriving downstream.
#
# Connection: the usual PG* variables (PGHOST, PGUSER, PGPASSWORD, PGDATABASE).
#   CLIENTS=3 CARTS=2 ITEMS=4 DELAY=0.3 sh writer.sh
#   (CARTS per client; the last append of every cart is a batch of two events)
set -eu

CLIENTS=${CLIENTS:-3}
CARTS=${CARTS:-2}
ITEMS=${ITEMS:-4}
DELAY=${DELAY:-0.3}

i=0
until pg_isready -q; do
	i=$((i + 1))
	if [ "$i" -ge 60 ]; then
		echo "writer: PostgreSQL at ${PGHOST:-local socket} is not ready" >&2
		exit 1
	fi
	sleep 1
done

# script CLIENT: the psql script of one client (all its carts).
script() {
	n=$1
	cat <<'SQL'
\set ON_ERROR_STOP on
\pset tuples_only on
\pset format unaligned
SQL
	c=1
	while [ "$c" -le "$CARTS" ]; do
		customer="customer-$n-$c"
		cat <<SQL
SELECT gen_random_uuid() AS cart \gset
SELECT format('client $n: cart %s opened by $customer (version %s)', :'cart',
  eventstore.append(:'cart', 'cart', 0,
    '[{"type": "CartOpened", "data": {"customer": "$customer"}, "metadata": {"client": "writer-$n"}}]'));
SQL
		i=1
		while [ "$i" -le "$ITEMS" ]; do
			sku="SKU-$(((n * 7 + c * 3 + i) % 20 + 1))"
			qty=$(((n + i) % 3 + 1))
			price=$(((n * 131 + c * 17 + i * 29) % 5000 + 199))
			cat <<SQL
SELECT pg_sleep($DELAY) \gset
SELECT format('client $n: cart %s + $qty x $sku (version %s)', left(:'cart', 8),
  eventstore.append(:'cart', 'cart', $i,
    '[{"type": "ItemAdded", "data": {"sku": "$sku", "qty": $qty, "unit_price_cents": $price}}]'));
SQL
			i=$((i + 1))
		done
		cat <<SQL
SELECT pg_sleep($DELAY) \gset
SELECT format('client $n: cart %s - 1 x SKU-$(((n * 7 + c * 3 + 1) % 20 + 1)), checked out (version %s)', left(:'cart', 8),
  eventstore.append(:'cart', 'cart', $((ITEMS + 1)),
    '[{"type": "ItemRemoved", "data": {"sku": "SKU-$(((n * 7 + c * 3 + 1) % 20 + 1))", "qty": 1}},
      {"type": "CheckedOut", "data": {"payment": "card"}}]'));
SQL
		c=$((c + 1))
	done
}

pids=""
n=1
while [ "$n" -le "$CLIENTS" ]; do
	script "$n" | psql -X -q &
	pids="$pids $!"
	n=$((n + 1))
done
rc=0
for p in $pids; do
	wait "$p" || rc=1
done
if [ "$rc" -ne 0 ]; then
	echo "writer: a client failed" >&2
	exit 1
fi
events=$((CLIENTS * CARTS * (ITEMS + 3)))
echo "writer: done: $CLIENTS clients, $((CLIENTS * CARTS)) carts, $events events appended"
