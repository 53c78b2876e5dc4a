-- append_random: append() with generated hostile batches (types, sizes,
-- nesting, unicode, ids, expected versions).  Every call must either succeed
-- and store exactly its events at consecutive versions, or fail with a
-- documented SQLSTATE (docs/errors.md) and store nothing.  Deterministic
-- (setseed); each outcome class must be reached at least once.
SET eventstore.max_event_size = '4kB';
SELECT setseed(0.16);

-- a random JSON value, nested up to depth levels
CREATE FUNCTION pg_temp.rnd_value(depth int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r float8 := random();
	v jsonb;
	i int;
BEGIN
	IF depth <= 0 OR r < 0.35 THEN
		r := random();
		RETURN CASE
			WHEN r < 0.15 THEN 'null'::jsonb
			WHEN r < 0.25 THEN to_jsonb(random() < 0.5)
			WHEN r < 0.40 THEN to_jsonb((random() * 1e6)::int - 500000)
			WHEN r < 0.45 THEN '1e308'::jsonb
			WHEN r < 0.50 THEN '-0.000000000000000000000001'::jsonb
			WHEN r < 0.60 THEN to_jsonb(repeat('x', (random() * 5000)::int))
			WHEN r < 0.70 THEN to_jsonb(E'caf\u00e9 \u20ac \U0001F600 \u05D0 \\ " \n \t'::text)
			WHEN r < 0.75 THEN to_jsonb(''::text)
			WHEN r < 0.80 THEN '"\ud83d\ude00 \u0001 \u001f"'::jsonb
			ELSE to_jsonb(md5(random()::text))
		END;
	ELSIF r < 0.65 THEN
		v := '[]';
		FOR i IN 1..(random() * 4)::int LOOP
			v := v || jsonb_build_array(pg_temp.rnd_value(depth - 1));
		END LOOP;
		RETURN v;
	ELSE
		v := '{}';
		FOR i IN 1..(random() * 4)::int LOOP
			v := v || jsonb_build_object(
				(ARRAY['type', 'data', 'metadata', 'id', 'k', E'\u00e9', '', 'Type'])[1 + (random() * 7)::int],
				pg_temp.rnd_value(depth - 1));
		END LOOP;
		RETURN v;
	END IF;
END $$;

-- a random event: mostly well-formed, each part sometimes hostile
CREATE FUNCTION pg_temp.rnd_event(used_ids uuid[]) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r float8 := random();
	e jsonb := '{}';
BEGIN
	IF r < 0.05 THEN
		RETURN pg_temp.rnd_value(2);	-- anything at all
	END IF;
	r := random();
	e := e || jsonb_build_object('type', CASE
		WHEN r < 0.90 THEN to_jsonb((ARRAY['CartOpened', 'ItemAdded', E'\u00c9v\u00e9nement', 'x'])[1 + (random() * 3)::int])
		WHEN r < 0.93 THEN to_jsonb(''::text)
		WHEN r < 0.95 THEN 'null'::jsonb
		WHEN r < 0.97 THEN to_jsonb(7)
		ELSE pg_temp.rnd_value(1) END);
	IF random() < 0.05 THEN
		e := e - 'type';
	END IF;
	IF random() < 0.8 THEN
		e := e || jsonb_build_object('data', pg_temp.rnd_value(4));
	END IF;
	r := random();
	IF r < 0.3 THEN
		e := e || jsonb_build_object('metadata', CASE WHEN random() < 0.8 THEN jsonb_build_object('user', 'ann')
													   ELSE pg_temp.rnd_value(2) END);
	END IF;
	r := random();
	IF r < 0.3 THEN
		e := e || jsonb_build_object('id', gen_random_uuid());
	ELSIF r < 0.4 AND cardinality(used_ids) > 0 THEN
		e := e || jsonb_build_object('id', used_ids[1 + (random() * (cardinality(used_ids) - 1))::int]);
	ELSIF r < 0.45 THEN
		e := e || jsonb_build_object('id', (ARRAY[to_jsonb('not-a-uuid'::text), to_jsonb(12),
			to_jsonb('0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6'::text), to_jsonb('0B8E0F555A3C4D8E9A473F1C2B1D0E6A'::text),
			'null'::jsonb, to_jsonb('{0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6a}'::text)])[1 + (random() * 5)::int]);
	END IF;
	IF random() < 0.03 THEN
		e := e || jsonb_build_object((ARRAY['Data', 'extra', E'\u00e9'])[1 + (random() * 2)::int], 1);
	END IF;
	RETURN e;
END $$;

CREATE TEMP TABLE outcomes (sqlstate text, calls int);

DO $$
DECLARE
	documented text[] := ARRAY['VE001', 'VE002', 'VE003', 'VE004', 'VE005', 'VE006', 'VE007', 'VE008', '22004', '22023'];
	aggs uuid[] := ARRAY(SELECT ('fa000000-0000-0000-0000-00000000000' || i)::uuid FROM generate_series(0, 5) i);
	used_ids uuid[] := '{}';
	agg uuid;
	typ text;
	expected bigint;
	batch jsonb;
	r float8;
	n int;
	i int;
	j int;
	before_events bigint;
	after_events bigint;
	before_version bigint;
	got bigint;
	state text;
	msg text;
BEGIN
	FOR i IN 1..1500 LOOP
		agg := CASE WHEN random() < 0.02 THEN NULL ELSE aggs[1 + (random() * 5)::int] END;
		r := random();
		typ := CASE WHEN r < 0.85 THEN 'cart' WHEN r < 0.93 THEN 'order' WHEN r < 0.97 THEN '' ELSE NULL END;
		before_version := COALESCE(eventstore.version(agg), 0);
		r := random();
		expected := CASE WHEN r < 0.35 THEN NULL WHEN r < 0.7 THEN before_version
						 WHEN r < 0.8 THEN 0 WHEN r < 0.9 THEN before_version + 1
						 WHEN r < 0.95 THEN -1 ELSE 9223372036854775807 END;
		r := random();
		IF r < 0.9 THEN
			batch := '[]';
			n := 1 + (random() * 4)::int;
			FOR j IN 1..n LOOP
				batch := batch || jsonb_build_array(pg_temp.rnd_event(used_ids));
			END LOOP;
			IF random() < 0.03 THEN
				batch := batch || jsonb_build_array(batch -> 0);	-- the same event (and id) twice
			END IF;
		ELSIF r < 0.93 THEN
			batch := '[]';
		ELSIF r < 0.97 THEN
			batch := pg_temp.rnd_value(2);
		ELSE
			batch := NULL;
		END IF;
		SELECT count(*) INTO before_events FROM eventstore.events;
		state := '00000';
		BEGIN
			got := eventstore.append(agg, typ, expected, batch);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		END;
		SELECT count(*) INTO after_events FROM eventstore.events;
		IF state = '00000' THEN
			n := jsonb_array_length(batch);
			IF after_events - before_events = n THEN
				-- stored exactly the batch, at the versions after the old one
				IF got <> before_version + n OR got <> eventstore.version(agg) OR
				   (SELECT count(*) FROM eventstore.events WHERE aggregate_id = agg) <> got THEN
					RAISE EXCEPTION 'case %: append returned % (version before %) for %', i, got, before_version, batch;
				END IF;
			ELSIF after_events = before_events THEN
				-- an idempotent retry: the batch's ids are stored, in order, ending at the returned version
				IF (SELECT array_agg(event_id ORDER BY version) FROM eventstore.events
					 WHERE aggregate_id = agg AND version BETWEEN got - n + 1 AND got) IS DISTINCT FROM
				   (SELECT array_agg((e ->> 'id')::uuid ORDER BY o) FROM jsonb_array_elements(batch) WITH ORDINALITY x(e, o)) THEN
					RAISE EXCEPTION 'case %: append stored nothing, returned %, but the batch is not stored there: %', i, got, batch;
				END IF;
			ELSE
				RAISE EXCEPTION 'case %: append of % events stored %', i, n, after_events - before_events;
			END IF;
			used_ids := used_ids || ARRAY(SELECT (e ->> 'id')::uuid FROM jsonb_array_elements(batch) e
										   WHERE jsonb_typeof(e -> 'id') = 'string');
		ELSE
			IF NOT state = ANY (documented) THEN
				RAISE EXCEPTION 'case %: undocumented SQLSTATE % (%) for %', i, state, msg, batch;
			END IF;
			IF after_events <> before_events THEN
				RAISE EXCEPTION 'case %: failed with % but stored % events', i, state, after_events - before_events;
			END IF;
		END IF;
		UPDATE outcomes o SET calls = o.calls + 1 WHERE o.sqlstate = state;
		IF NOT FOUND THEN
			INSERT INTO outcomes VALUES (state, 1);
		END IF;
	END LOOP;
END $$;

-- every outcome was reached (the counts themselves depend on the generator)
SELECT s AS sqlstate, EXISTS (SELECT FROM outcomes o WHERE o.sqlstate = s) AS reached
  FROM unnest(ARRAY['00000', 'VE001', 'VE002', 'VE003', 'VE004', 'VE005', 'VE006', 'VE007', 'VE008', '22004', '22023']) s
 ORDER BY 1;
SELECT sum(calls) AS appends FROM outcomes;
-- what was stored reads back as the events that were appended
SELECT count(*) = count(DISTINCT (aggregate_id, version)) AS versions_unique,
	   bool_and(version >= 1) AS versions_positive
  FROM eventstore.events WHERE aggregate_id::text LIKE 'fa000000-%';
RESET eventstore.max_event_size;
