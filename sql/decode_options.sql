-- decode_options: every option of the eventstore plugin, and bad options
SET synchronous_commit = on;
SELECT 'init' FROM pg_create_logical_replication_slot('es_opts', 'eventstore');

CREATE FUNCTION public.peek(VARIADIC opts text[] DEFAULT '{}') RETURNS SETOF text
LANGUAGE sql AS $$
	SELECT public.mask_envelope(data) FROM pg_logical_slot_peek_changes('es_opts', NULL, NULL, VARIADIC opts)
$$;

BEGIN;
SELECT eventstore.append('90000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened", "id": "91000000-0000-0000-0000-000000000001"},
	  {"type": "ItemAdded", "data": {"sku": "A"}, "id": "91000000-0000-0000-0000-000000000002"}]');
SELECT eventstore.append('90000000-0000-0000-0000-000000000002', 'order', 0,
	'[{"type": "OrderPlaced", "data": {"total": 10}, "id": "91000000-0000-0000-0000-000000000003"}]');
COMMIT;
-- a transaction without events: no markers even with include-transaction
CREATE TABLE public.noise (x int);
INSERT INTO public.noise VALUES (1);

-- defaults
SELECT * FROM peek();
-- include-transaction: begin/commit markers around the transaction's events
SELECT * FROM peek('include-transaction', 'on');
-- the commit marker's end_lsn is past its lsn
SELECT (m->>'end_lsn')::pg_lsn > (m->>'lsn')::pg_lsn AS end_after_commit, m->>'events' AS events
  FROM (SELECT data::jsonb AS m FROM pg_logical_slot_peek_changes('es_opts', NULL, NULL, 'include-transaction', '1')) s
 WHERE m->>'kind' = 'commit';
-- source fields one by one
SELECT * FROM peek('include-xids', 'off') LIMIT 1;
SELECT * FROM peek('include-lsn', 'false') LIMIT 1;
SELECT * FROM peek('include-timestamp', '0') LIMIT 1;
SELECT * FROM peek('include-database', 'no') LIMIT 1;
SELECT * FROM peek('include-source', 'off') LIMIT 1;
SELECT * FROM peek('include-transaction', 'on', 'include-xids', 'off', 'include-timestamp', 'off') LIMIT 1;
-- filters
SELECT * FROM peek('include-source', 'off', 'aggregate-types', 'order');
SELECT * FROM peek('include-source', 'off', 'aggregate-types', ' cart , order ');
SELECT * FROM peek('include-source', 'off', 'event-types', 'ItemAdded,OrderPlaced');
SELECT * FROM peek('include-source', 'off', 'event-types', 'itemadded');
SELECT * FROM peek('include-source', 'off', 'aggregate-types', 'cart', 'event-types', 'CartOpened');
-- a transaction whose events are all filtered out gets no markers
SELECT * FROM peek('include-transaction', 'on', 'aggregate-types', 'nothing');
-- pretty-print
SELECT * FROM peek('include-source', 'off', 'pretty-print', 'on', 'aggregate-types', 'order');

-- bad options name the option
SELECT try($$SELECT * FROM peek('no-such-option', 'on')$$);
SELECT try($$SELECT * FROM peek('include-xids', 'maybe')$$);
SELECT try($$SELECT * FROM peek('aggregate-types', '')$$);
SELECT try($$SELECT * FROM peek('aggregate-types', 'a,,b')$$);
SELECT try($$SELECT * FROM peek('include-lsn', 'on', 'include-lsn', 'off')$$);

SELECT 'stop' FROM pg_drop_replication_slot('es_opts');
DROP FUNCTION public.peek(text[]);
DROP TABLE public.noise;
