-- bad_input: malformed batches and events get the same SQLSTATE and message
-- in both flavours (tests/regress.sh ES_FLAVOUR), and a failed append stores
-- nothing.  Aggregates 90000000-...
CREATE FUNCTION public.try_append(agg int, expected bigint, events jsonb) RETURNS text
LANGUAGE sql AS $$
	SELECT public.try(pg_catalog.format('SELECT eventstore.append(%L, %L, %s, %L)',
		pg_catalog.format('90000000-0000-0000-0000-%s', pg_catalog.lpad(agg::text, 12, '0')),
		'cart', COALESCE(expected::text, 'NULL'), events))
$$;

-- not an array of events
SELECT try_append(1, 0, 'null');
SELECT try_append(1, 0, '7');
SELECT try_append(1, 0, '{"type": "A"}');
SELECT try_append(1, 0, '[[{"type": "A"}]]');
SELECT try_append(1, 0, '[{"type": "A"}, null]');
-- no type, or a type that is not a non-empty string
SELECT try_append(1, 0, '[{"type": "A"}, {"data": {"type": "B"}}]');
SELECT try_append(1, 0, '[{"type": ["A"]}]');
SELECT try_append(1, 0, '[{"type": true}]');
-- unknown keys: the first in jsonb's key order (shorter keys first) is named
SELECT try_append(1, 0, '[{"type": "A", "zz": 1, "b": 2}]');
SELECT try_append(1, 0, '[{"Type": "A"}]');
SELECT try_append(1, 0, '[{"nope": 1}]');
SELECT try_append(1, 0, jsonb_build_array(jsonb_build_object('type', 'A', repeat('k', 100), 1)));
-- metadata must be an object (or null)
SELECT try_append(1, 0, '[{"type": "A", "metadata": "user=ann"}]');
SELECT try_append(1, 0, '[{"type": "A", "metadata": 3}]');
SELECT try_append(1, 0, '[{"type": "A", "metadata": []}]');
-- malformed ids (hyphens are optional, and only between the uuid's groups)
SELECT try_append(1, 0, '[{"type": "A", "id": "{0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6a}"}]');
SELECT try_append(1, 0, '[{"type": "A", "id": "0b8e-0f55-5a3c-4d8e-9a47-3f1c-2b1d-0e6a"}]');
SELECT try_append(1, 0, '[{"type": "A", "id": "0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6a-"}]');
SELECT try_append(1, 0, '[{"type": "A", "id": "-0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6a"}]');
SELECT try_append(1, 0, '[{"type": "A", "id": "0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6g"}]');
SELECT try_append(1, 0, '[{"type": "A", "id": "0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6a0"}]');
SELECT try_append(1, 0, '[{"type": "A", "id": ""}]');
SELECT try_append(1, 0, '[{"type": "A", "id": true}]');
SELECT try_append(1, 0, '[{"type": "A", "id": {"uuid": "0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6a"}}]');
-- the same id three times: the first two are named
SELECT try_append(1, 0, '[{"type": "A", "id": "91000000-0000-0000-0000-000000000009"},
	{"type": "B", "id": "91000000-0000-0000-0000-000000000001"},
	{"type": "C", "id": "91000000-0000-0000-0000-000000000009"},
	{"type": "D", "id": "91000000-0000-0000-0000-000000000001"},
	{"type": "E", "id": "91000000-0000-0000-0000-000000000009"}]');
-- checks run in order: the first problem of the first bad event wins
SELECT try_append(1, 0, '[{"type": "A"}, {"type": "", "x": 1}, {"data": 1}]');
SELECT try_append(1, 0, '[{"type": "A", "metadata": [], "id": "bad"}]');
-- none of that stored anything
SELECT count(*) FROM eventstore.aggregates WHERE aggregate_id::text LIKE '9%';

-- accepted: extra hyphens between groups, any case, null metadata and id
SELECT try_append(2, 0, '[{"type": "A", "id": "9A8E0F55--5A3C-4D8E-9A47-3F1C2B1D0E6A", "metadata": null},
	{"type": "B", "id": null, "data": null}]');
SELECT version, event_id = '9a8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6a' AS given_id, data, metadata FROM eventstore.events
 WHERE aggregate_id = '90000000-0000-0000-0000-000000000002' ORDER BY version;

-- event size: the compact JSON of type, data and metadata, exactly (spaces
-- and separators inside strings count, jsonb's own spaces do not)
CREATE TABLE sized AS SELECT jsonb_build_array(jsonb_build_object(
	'type', 'Wörd, "q": x',
	'data', '{"a": "x, y: z", "b": [1, 2.50, 1e3, {"c": "\"q\", \\ \n\t"}], "ü": null, "e": {}, "f": []}'::jsonb,
	'metadata', '{"k": ", :"}'::jsonb)) AS batch;
SET eventstore.max_event_size = 64;
SELECT try_append(3, 0, (SELECT batch FROM sized));
SET eventstore.max_event_size = 103;
SELECT try_append(3, 0, (SELECT batch FROM sized));
SET eventstore.max_event_size = 104;
SELECT try_append(3, 0, (SELECT batch FROM sized));
SET eventstore.max_event_size = '1kB';
SELECT try_append(4, NULL, jsonb_build_array(jsonb_build_object('type', 'A', 'metadata', jsonb_build_object('pad', repeat('m', 1020)))));
SELECT try_append(4, NULL, '[{"type": "A"}]' || jsonb_build_array(jsonb_build_object('type', 'B', 'data', repeat('é', 600))));
RESET eventstore.max_event_size;
SELECT count(*) FROM eventstore.events WHERE aggregate_id = '90000000-0000-0000-0000-000000000004';

-- 10,000 events in one batch: stored in order; with a bad last event, none is
SELECT try_append(5, 0, (SELECT jsonb_agg(jsonb_build_object('type', 'Tick', 'data', i) ORDER BY i)
						   FROM generate_series(1, 10000) i) || '[{"type": 1}]');
SELECT count(*) FROM eventstore.events WHERE aggregate_id = '90000000-0000-0000-0000-000000000005';
SELECT try_append(5, 0, (SELECT jsonb_agg(jsonb_build_object('type', 'Tick', 'data', i) ORDER BY i)
						   FROM generate_series(1, 10000) i));
SELECT count(*), min(version), max(version), bool_and(data = to_jsonb(version)) AS in_order
  FROM eventstore.load('90000000-0000-0000-0000-000000000005');
-- and retried whole with ids: idempotent
SELECT try_append(6, 0, (SELECT jsonb_agg(jsonb_build_object('type', 'Tick', 'id', md5('bulk' || i)::uuid) ORDER BY i)
						   FROM generate_series(1, 10000) i));
SELECT eventstore.append('90000000-0000-0000-0000-000000000006', 'cart', 0,
	(SELECT jsonb_agg(jsonb_build_object('type', 'Tick', 'id', md5('bulk' || i)::uuid) ORDER BY i)
	   FROM generate_series(1, 10000) i)) AS retried;
SELECT count(*) FROM eventstore.events WHERE aggregate_id = '90000000-0000-0000-0000-000000000006';

-- deeply nested data is stored and loaded as given, and sized like any other
SELECT try_append(7, 0, jsonb_build_array(jsonb_build_object('type', 'Deep',
	'data', (repeat('[', 2000) || '"bottom, : "' || repeat(']', 2000))::jsonb)));
SELECT jsonb_path_query_first(data, ('strict $' || repeat('[0]', 2000))::jsonpath) AS bottom
  FROM eventstore.load('90000000-0000-0000-0000-000000000007');
SET eventstore.max_event_size = 4006;
SELECT try_append(8, 0, jsonb_build_array(jsonb_build_object('type', 'Deep',
	'data', (repeat('{"a": [', 500) || '1' || repeat(']}', 500))::jsonb)));
SET eventstore.max_event_size = 4007;
SELECT try_append(8, 0, jsonb_build_array(jsonb_build_object('type', 'Deep',
	'data', (repeat('{"a": [', 500) || '1' || repeat(']}', 500))::jsonb)));
RESET eventstore.max_event_size;

-- detail and hint too, for every error that has them
CREATE FUNCTION public.try_full(stmt text) RETURNS TABLE (state text, message text, detail text, hint text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN QUERY SELECT 'ok', NULL::text, NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN NEXT;
END
$$;
\x on
SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', 0,
	'[{"type": "A", "id": "92000000-0000-0000-0000-000000000001"}, {"type": "B", "id": "92000000-0000-0000-0000-000000000002"}]');
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', 1, '[{"type": "C"}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-0000000000f9', 'cart', 4, '[{"type": "C"}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', 5,
	'[{"type": "A", "id": "92000000-0000-0000-0000-000000000001"}, {"type": "B", "id": "92000000-0000-0000-0000-000000000002"}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'order', NULL, '[{"type": "C"}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL, '{}')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL, '[]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL, NULL)$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL, '[{"data": 1}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL, '[{"type": ""}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL, '[{"type": "A", "id": "x"}]')$$);
SET eventstore.max_event_size = 64;
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL,
	jsonb_build_array(jsonb_build_object('type', 'A', 'data', repeat('x', 100))))$$);
RESET eventstore.max_event_size;
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-0000000000f9', 'cart', 0,
	'[{"type": "A", "id": "92000000-0000-0000-0000-000000000002"}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL,
	'[{"type": "B", "id": "92000000-0000-0000-0000-000000000002"}, {"type": "C"}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL,
	'[{"type": "B", "id": "92000000-0000-0000-0000-000000000003"}, {"type": "C", "id": "92000000-0000-0000-0000-000000000003"}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL, '[7]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL, '[{"type": "A", "Id": 1}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', NULL, '[{"type": "A", "metadata": 1}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append(NULL, 'cart', NULL, '[{"type": "A"}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', '', NULL, '[{"type": "A"}]')$$);
SELECT * FROM try_full($$SELECT eventstore.append('90000000-0000-0000-0000-000000000009', 'cart', -2, '[{"type": "A"}]')$$);
\x off
SELECT version FROM eventstore.load('90000000-0000-0000-0000-000000000009');

DROP TABLE sized;
DROP FUNCTION public.try_full(text);
DROP FUNCTION public.try_append(int, bigint, jsonb);
