-- append: versions, expected-version semantics, defaults
-- a new aggregate (expected 0), two events in one batch
SELECT eventstore.append('a0000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened", "data": {"customer": "ann"}},
	  {"type": "ItemAdded", "data": {"sku": "A-1", "qty": 2}, "metadata": {"user": "ann"}}]');
-- exact expected version
SELECT eventstore.append('a0000000-0000-0000-0000-000000000001', 'cart', 2,
	'[{"type": "ItemAdded", "data": {"sku": "B-2", "qty": 1}}]');
-- any version (NULL) on an existing aggregate
SELECT eventstore.append('a0000000-0000-0000-0000-000000000001', 'cart', NULL,
	'[{"type": "ItemRemoved", "data": {"sku": "A-1"}}]');
-- any version (NULL) creates a missing aggregate
SELECT eventstore.append('a0000000-0000-0000-0000-000000000002', 'cart', NULL,
	'[{"type": "CartOpened"}]');

SELECT aggregate_id, aggregate_type, version FROM eventstore.aggregates ORDER BY 1;
SELECT aggregate_id, version, aggregate_type, type, data, metadata
  FROM eventstore.events ORDER BY aggregate_id, version;

-- data may be any JSON value; metadata null means {}
SELECT eventstore.append('a0000000-0000-0000-0000-000000000003', 'counter', 0,
	'[{"type": "Set", "data": 42}, {"type": "Set", "data": [1, "two", null]},
	  {"type": "Set", "data": null, "metadata": null}]');
SELECT version, data, metadata FROM eventstore.events
 WHERE aggregate_id = 'a0000000-0000-0000-0000-000000000003' ORDER BY version;

-- a client-supplied id is stored as given (any case, with or without hyphens)
SELECT eventstore.append('a0000000-0000-0000-0000-000000000004', 'cart', 0,
	'[{"type": "CartOpened", "id": "0B8E0F55-5A3C-4D8E-9A47-3F1C2B1D0E6A"},
	  {"type": "ItemAdded", "id": "1b8e0f555a3c4d8e9a473f1c2b1d0e6a"}]');
SELECT version, event_id FROM eventstore.events
 WHERE aggregate_id = 'a0000000-0000-0000-0000-000000000004' ORDER BY version;

-- generated ids are distinct uuids
SELECT count(DISTINCT event_id) = count(*) AS ids_unique FROM eventstore.events;

-- all events of one append share the transaction's timestamp
SELECT count(DISTINCT recorded_at) AS timestamps FROM eventstore.events
 WHERE aggregate_id = 'a0000000-0000-0000-0000-000000000001' AND version <= 2;

-- several appends in one transaction: versions continue
BEGIN;
SELECT eventstore.append('a0000000-0000-0000-0000-000000000005', 'cart', 0, '[{"type": "CartOpened"}]');
SELECT eventstore.append('a0000000-0000-0000-0000-000000000005', 'cart', 1, '[{"type": "ItemAdded"}]');
SELECT eventstore.append('a0000000-0000-0000-0000-000000000005', 'cart', 2, '[{"type": "ItemAdded"}]');
COMMIT;
SELECT eventstore.version('a0000000-0000-0000-0000-000000000005');

-- a rolled-back append leaves nothing
BEGIN;
SELECT eventstore.append('a0000000-0000-0000-0000-000000000006', 'cart', 0, '[{"type": "CartOpened"}]');
ROLLBACK;
SELECT eventstore.version('a0000000-0000-0000-0000-000000000006');
SELECT count(*) FROM eventstore.events WHERE aggregate_id = 'a0000000-0000-0000-0000-000000000006';

-- a batch of 1000 events
SELECT eventstore.append('a0000000-0000-0000-0000-000000000007', 'bulk', 0,
	(SELECT jsonb_agg(jsonb_build_object('type', 'Tick', 'data', jsonb_build_object('n', i)))
	   FROM generate_series(1, 1000) i));
SELECT min(version), max(version), count(*), bool_and((data->>'n')::int = version) AS in_order
  FROM eventstore.events WHERE aggregate_id = 'a0000000-0000-0000-0000-000000000007';
