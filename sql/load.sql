-- load, load_list, version
SELECT eventstore.append('b0000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened", "data": {"customer": "bo"}, "id": "b1000000-0000-0000-0000-000000000001"},
	  {"type": "ItemAdded", "data": {"sku": "A", "qty": 1}, "id": "b1000000-0000-0000-0000-000000000002"},
	  {"type": "ItemAdded", "data": {"sku": "B", "qty": 3}, "id": "b1000000-0000-0000-0000-000000000003"}]');

SELECT aggregate_id, version, aggregate_type, event_id, type, data, metadata
  FROM eventstore.load('b0000000-0000-0000-0000-000000000001');
SELECT version, type FROM eventstore.load('b0000000-0000-0000-0000-000000000001', 2);
SELECT count(*) FROM eventstore.load('b0000000-0000-0000-0000-000000000001', 4);
SELECT count(*) FROM eventstore.load('b0000000-0000-0000-0000-0000000000ff');

-- the DynamoDB-shaped list
SELECT jsonb_agg(jsonb_build_object('version', e -> 'version', 'type', e -> 'type',
									 'data', e -> 'data') ORDER BY ord) AS list
FROM jsonb_array_elements(eventstore.load_list('b0000000-0000-0000-0000-000000000001'))
	 WITH ORDINALITY AS l(e, ord);
SELECT jsonb_array_length(eventstore.load_list('b0000000-0000-0000-0000-000000000001', 3)) AS from_3;
SELECT eventstore.load_list('b0000000-0000-0000-0000-0000000000ff') AS none;

SELECT eventstore.version('b0000000-0000-0000-0000-000000000001') AS v,
	   eventstore.version('b0000000-0000-0000-0000-0000000000ff') AS missing;

-- rehydrate a cart by folding its events
SELECT jsonb_object_agg(sku, qty) AS cart
  FROM (SELECT data->>'sku' AS sku, sum((data->>'qty')::int) AS qty
		  FROM eventstore.load('b0000000-0000-0000-0000-000000000001')
		 WHERE type = 'ItemAdded' GROUP BY 1) s;

-- load uses the primary key, in order
EXPLAIN (COSTS OFF) SELECT * FROM eventstore.events e
 WHERE e.aggregate_id = 'b0000000-0000-0000-0000-000000000001' AND e.version >= 1 ORDER BY e.version;

-- a long aggregate loads in order
SELECT eventstore.append('b0000000-0000-0000-0000-000000000002', 'bulk', 0,
	(SELECT jsonb_agg(jsonb_build_object('type', 'Tick', 'data', i)) FROM generate_series(1, 10000) i));
SELECT count(*), bool_and(data = to_jsonb(version)) AS ordered
  FROM eventstore.load('b0000000-0000-0000-0000-000000000002');
