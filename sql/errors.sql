-- errors: every documented error, with its SQLSTATE; a failed append stores nothing
SELECT eventstore.append('e0000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened"}, {"type": "ItemAdded"}]');

-- VE001 wrong expected version: says expected and actual
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000001', 'cart', 1, '[{"type": "X"}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000001', 'cart', 0, '[{"type": "X"}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000001', 'cart', 5, '[{"type": "X"}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-0000000000ff', 'cart', 3, '[{"type": "X"}]')$$);
-- VE002 aggregate type mismatch
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000001', 'order', 2, '[{"type": "X"}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000001', 'order', NULL, '[{"type": "X"}]')$$);
-- VE003 empty or non-array batch
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, '[]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, '{"type": "X"}')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, '"X"')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, NULL)$$);
-- VE004 event without a type, or a type that is not a non-empty string
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, '[{"type": "A"}, {"data": {}}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, '[{"type": null}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, '[{"type": ""}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, '[{"type": 7}]')$$);
-- VE005 malformed id
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, '[{"type": "A", "id": "not-a-uuid"}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, '[{"type": "A", "id": "0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6"}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0, '[{"type": "A", "id": 12}]')$$);
-- VE006 oversized event (limit configurable)
SET eventstore.max_event_size = '1kB';
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0,
	jsonb_build_array(jsonb_build_object('type', 'Big', 'data', repeat('x', 2000))))$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 0,
	jsonb_build_array(jsonb_build_object('type', 'Small', 'data', repeat('x', 900))))$$);
RESET eventstore.max_event_size;
-- the default limit is 1 MB: 3 + 1048571 + 2 bytes pass, one more does not
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000002', 'cart', 1,
	jsonb_build_array(jsonb_build_object('type', 'Big', 'data', repeat('x', 1048576 - 6))))$$);
SELECT try($$SELECT eventstore.append('0e000000-0000-0000-0000-000000000001', 'cart', 0,
	jsonb_build_array(jsonb_build_object('type', 'Big', 'data', repeat('x', 1048576 - 7))))$$);
-- VE008 malformed event
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000003', 'cart', 0, '[1]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000003', 'cart', 0, '[{"type": "A", "metadata": [1]}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000003', 'cart', 0, '[{"type": "A", "Data": {}}]')$$);
-- bad arguments
SELECT try($$SELECT eventstore.append(NULL, 'cart', 0, '[{"type": "A"}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000003', NULL, 0, '[{"type": "A"}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000003', '', 0, '[{"type": "A"}]')$$);
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000003', 'cart', -1, '[{"type": "A"}]')$$);

-- none of the failed appends stored anything
SELECT aggregate_id, version FROM eventstore.aggregates WHERE aggregate_id::text LIKE 'e%' ORDER BY 1;
SELECT aggregate_id, count(*) FROM eventstore.events WHERE aggregate_id::text LIKE 'e%' GROUP BY 1 ORDER BY 1;

-- a bad event late in a batch fails the whole batch
SELECT try($$SELECT eventstore.append('e0000000-0000-0000-0000-000000000001', 'cart', 2,
	'[{"type": "Good"}, {"type": "Good"}, {"nope": 1}]')$$);
SELECT eventstore.version('e0000000-0000-0000-0000-000000000001');
