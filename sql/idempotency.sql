-- idempotency: a retried batch (same ids, same order, same aggregate) is not stored twice
SELECT eventstore.append('d0000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened", "id": "d1000000-0000-0000-0000-000000000001"},
	  {"type": "ItemAdded", "id": "d1000000-0000-0000-0000-000000000002"}]');
-- the same call again: returns the version of the batch's last event, stores nothing
SELECT eventstore.append('d0000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened", "id": "d1000000-0000-0000-0000-000000000001"},
	  {"type": "ItemAdded", "id": "d1000000-0000-0000-0000-000000000002"}]');
-- with expected version NULL too
SELECT eventstore.append('d0000000-0000-0000-0000-000000000001', 'cart', NULL,
	'[{"type": "CartOpened", "id": "d1000000-0000-0000-0000-000000000001"},
	  {"type": "ItemAdded", "id": "d1000000-0000-0000-0000-000000000002"}]');
-- later appends do not change the answer for the old batch
SELECT eventstore.append('d0000000-0000-0000-0000-000000000001', 'cart', 2,
	'[{"type": "ItemAdded", "id": "d1000000-0000-0000-0000-000000000003"}]');
SELECT eventstore.append('d0000000-0000-0000-0000-000000000001', 'cart', 2,
	'[{"type": "ItemAdded", "id": "d1000000-0000-0000-0000-000000000003"}]');
SELECT version, event_id FROM eventstore.events
 WHERE aggregate_id = 'd0000000-0000-0000-0000-000000000001' ORDER BY version;

-- not a retry (VE007): part of the batch stored, different order, other aggregate, id twice in a batch
SELECT try($$SELECT eventstore.append('d0000000-0000-0000-0000-000000000001', 'cart', 3,
	'[{"type": "ItemAdded", "id": "d1000000-0000-0000-0000-000000000003"},
	  {"type": "ItemAdded", "id": "d1000000-0000-0000-0000-000000000004"}]')$$);
SELECT try($$SELECT eventstore.append('d0000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "ItemAdded", "id": "d1000000-0000-0000-0000-000000000002"},
	  {"type": "CartOpened", "id": "d1000000-0000-0000-0000-000000000001"}]')$$);
SELECT try($$SELECT eventstore.append('d0000000-0000-0000-0000-000000000002', 'cart', 0,
	'[{"type": "CartOpened", "id": "d1000000-0000-0000-0000-000000000001"}]')$$);
SELECT try($$SELECT eventstore.append('d0000000-0000-0000-0000-000000000002', 'cart', 0,
	'[{"type": "A", "id": "d2000000-0000-0000-0000-000000000001"},
	  {"type": "B", "id": "d2000000-0000-0000-0000-000000000001"}]')$$);
-- a retry whose expected version does not match where the batch is stored (VE001)
SELECT try($$SELECT eventstore.append('d0000000-0000-0000-0000-000000000001', 'cart', 1,
	'[{"type": "ItemAdded", "id": "d1000000-0000-0000-0000-000000000003"}]')$$);
-- a retry with the wrong aggregate type (VE002)
SELECT try($$SELECT eventstore.append('d0000000-0000-0000-0000-000000000001', 'order', 2,
	'[{"type": "ItemAdded", "id": "d1000000-0000-0000-0000-000000000003"}]')$$);
SELECT count(*) FROM eventstore.events WHERE aggregate_id::text LIKE 'd%';
