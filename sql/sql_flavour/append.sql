/*
 * append(aggregate_id, aggregate_type, expected_version, events) -> new version
 *
 * The SQL flavour of the write path, for servers that load no C (Amazon RDS,
 * Aurora, Cloud SQL, ...).  It follows src/append.c step by step and must
 * answer every call as the C flavour does: the same rows, and for every
 * failure the same SQLSTATE, message, detail and hint (only the CONTEXT
 * field tells PL/pgSQL apart).  Set-based: one statement finds the first bad
 * event of the batch, one advances the aggregate, one inserts all events;
 * event ids are looked up only when the caller gave some.  SECURITY DEFINER
 * so that writers need no privilege on the tables themselves: append() is
 * the only way in.
 *
 * scripts/gen-sql-flavour.sh puts this definition in place of the C one of
 * sql/eventstore--<version>.sql; nothing else differs between the flavours.
 */
CREATE FUNCTION eventstore.append(aggregate_id uuid, aggregate_type text,
								  expected_version bigint, events jsonb)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
CALLED ON NULL INPUT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $append$
#variable_conflict use_column
DECLARE
	any_version boolean := append.expected_version IS NULL;
	expected bigint := append.expected_version;
	n integer;
	setting text;
	max_size bigint;
	batch_fits boolean;
	bad record;
	size bigint;
	key text;
	idx uuid[];				/* event i's id, NULL if it has none */
	nids integer;
	dup record;
	s_ids uuid[];			/* the stored events that carry one of the ids */
	s_aggs uuid[];
	s_versions bigint[];
	s_types text[];
	stored integer;
	pos integer;
	first bigint := -1;		/* version before the first new event */
	result bigint;
	stored_type text;
	actual bigint;
	inserted bigint;
	/* jsonb's text output less the space after each ':' and ',' outside strings */
	compact constant text := '("(?:[^"\\]|\\.)*")|([:,]) ';
BEGIN
	IF append.aggregate_id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'aggregate_id must not be null';
	END IF;
	IF append.aggregate_type IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'aggregate_type must not be null';
	END IF;
	IF append.events IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'VE003', MESSAGE = 'events must be a JSON array of events, not null';
	END IF;
	IF pg_catalog.octet_length(append.aggregate_type) = 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'aggregate_type must not be empty';
	END IF;
	IF NOT any_version AND expected < 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('expected_version must be NULL (any), 0 (new aggregate) or a positive version, not %s', expected);
	END IF;
	IF pg_catalog.jsonb_typeof(append.events) <> 'array' THEN
		RAISE EXCEPTION USING ERRCODE = 'VE003', MESSAGE = 'events must be a JSON array of events',
			HINT = 'Pass [{"type": "...", "data": {...}}, ...], even for one event.';
	END IF;
	n := pg_catalog.jsonb_array_length(append.events);
	IF n = 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'VE003', MESSAGE = 'the event batch is empty',
			HINT = 'Append at least one event.';
	END IF;

	/*
	 * eventstore.max_event_size: without the C library no module defines the
	 * setting, so it is read as text and parsed here with the C setting's
	 * units, range and default.
	 */
	setting := pg_catalog.current_setting('eventstore.max_event_size', true);
	IF setting IS NULL OR setting = '' THEN
		max_size := 1048576;
	ELSE
		key := pg_catalog.substring(setting, '^\s*[0-9]+(?:\.[0-9]+)?\s*(B|kB|MB|GB|TB)?\s*$');
		IF setting !~ '^\s*[0-9]+(?:\.[0-9]+)?\s*(B|kB|MB|GB|TB)?\s*$' THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = pg_catalog.format('invalid value for parameter "eventstore.max_event_size": "%s"', setting),
				HINT = 'Valid units for this parameter are "B", "kB", "MB", "GB", and "TB".';
		END IF;
		max_size := pg_catalog.round(pg_catalog.substring(setting, '[0-9]+(?:\.[0-9]+)?')::numeric *
			CASE COALESCE(key, 'B') WHEN 'B' THEN 1 WHEN 'kB' THEN 1024 WHEN 'MB' THEN 1048576
				WHEN 'GB' THEN 1073741824 ELSE 1099511627776 END);
		IF max_size < 64 OR max_size > 268435455 THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = pg_catalog.format('%s B is outside the valid range for parameter "eventstore.max_event_size" (64 .. 268435455)', max_size);
		END IF;
	END IF;
	/* An event's counted size never exceeds its JSON text, so most batches need no sizing. */
	batch_fits := pg_catalog.octet_length(append.events::text) <= max_size;

	/*
	 * Validate every event before touching any table, in the order of
	 * parse_event(): the first bad event decides the error.  A row flagged
	 * 'size' is only possibly too large; it is sized exactly below.
	 */
	FOR bad IN
		SELECT v.i, v.ev, v.problem
		  FROM (SELECT e.i, e.ev, CASE
					WHEN pg_catalog.jsonb_typeof(e.ev) <> 'object' THEN 'object'
					WHEN e.ev OPERATOR(pg_catalog.-) '{type,data,metadata,id}'::text[] <> '{}'::jsonb THEN 'key'
					WHEN COALESCE(pg_catalog.jsonb_typeof(e.ev -> 'type'), 'null') = 'null' THEN 'no type'
					WHEN pg_catalog.jsonb_typeof(e.ev -> 'type') <> 'string' OR (e.ev ->> 'type') = '' THEN 'type'
					WHEN pg_catalog.jsonb_typeof(e.ev -> 'metadata') NOT IN ('object', 'null') THEN 'metadata'
					WHEN NOT batch_fits AND pg_catalog.octet_length(e.ev::text) > max_size THEN 'size'
					WHEN pg_catalog.jsonb_typeof(e.ev -> 'id') NOT IN ('string', 'null') THEN 'id'
					WHEN pg_catalog.jsonb_typeof(e.ev -> 'id') = 'string' AND (e.ev ->> 'id')
						!~ '^[0-9a-fA-F]{8}-*[0-9a-fA-F]{4}-*[0-9a-fA-F]{4}-*[0-9a-fA-F]{4}-*[0-9a-fA-F]{12}$' THEN 'id'
					END AS problem
				  FROM pg_catalog.jsonb_array_elements(append.events) WITH ORDINALITY AS e(ev, i)) AS v
		 WHERE v.problem IS NOT NULL
		 ORDER BY v.i
	LOOP
		IF bad.problem = 'object' THEN
			RAISE EXCEPTION USING ERRCODE = 'VE008',
				MESSAGE = pg_catalog.format('event %s of the batch is not a JSON object', bad.i),
				HINT = 'Each event is an object like {"type": "ItemAdded", "data": {...}}.';
		ELSIF bad.problem = 'key' THEN
			SELECT k.key INTO key
			  FROM pg_catalog.jsonb_object_keys(bad.ev) WITH ORDINALITY AS k(key, ord)
			 WHERE k.key NOT IN ('type', 'data', 'metadata', 'id')
			 ORDER BY k.ord LIMIT 1;
			key := pg_catalog.left(key, 64);
			WHILE pg_catalog.octet_length(key) > 64 LOOP
				key := pg_catalog.left(key, -1);
			END LOOP;
			RAISE EXCEPTION USING ERRCODE = 'VE008',
				MESSAGE = pg_catalog.format('event %s of the batch has an unknown key "%s"', bad.i, key),
				HINT = 'The keys of an event are "type", "data", "metadata" and "id".';
		ELSIF bad.problem = 'no type' THEN
			RAISE EXCEPTION USING ERRCODE = 'VE004',
				MESSAGE = pg_catalog.format('event %s of the batch has no "type"', bad.i),
				HINT = 'Give every event a non-empty string "type", such as "ItemAdded".';
		ELSIF bad.problem = 'type' THEN
			RAISE EXCEPTION USING ERRCODE = 'VE004',
				MESSAGE = pg_catalog.format('"type" of event %s of the batch must be a non-empty string', bad.i);
		ELSIF bad.problem = 'metadata' THEN
			RAISE EXCEPTION USING ERRCODE = 'VE008',
				MESSAGE = pg_catalog.format('"metadata" of event %s of the batch must be a JSON object', bad.i);
		END IF;
		IF bad.problem = 'size' THEN
			/* What the output plugin writes: the type's bytes and compact data and metadata. */
			size := pg_catalog.octet_length(bad.ev ->> 'type')
				+ pg_catalog.octet_length(pg_catalog.regexp_replace(
					COALESCE(bad.ev -> 'data', '{}'::jsonb)::text, compact, '\1\2', 'g'))
				+ pg_catalog.octet_length(pg_catalog.regexp_replace(
					CASE pg_catalog.jsonb_typeof(bad.ev -> 'metadata') WHEN 'object'
						THEN (bad.ev -> 'metadata')::text ELSE '{}' END, compact, '\1\2', 'g'));
			IF size > max_size THEN
				RAISE EXCEPTION USING ERRCODE = 'VE006',
					MESSAGE = pg_catalog.format('event %s of the batch is too large: %s bytes of JSON, the limit is %s bytes',
												bad.i, size, max_size),
					DETAIL = 'One event must fit one Kinesis record.',
					HINT = 'Store large payloads elsewhere and reference them, or raise eventstore.max_event_size.';
			END IF;
			/* not too large after all: the id is the one check left */
			CONTINUE WHEN COALESCE(pg_catalog.jsonb_typeof(bad.ev -> 'id'), 'null') = 'null'
				OR (pg_catalog.jsonb_typeof(bad.ev -> 'id') = 'string' AND (bad.ev ->> 'id')
					~ '^[0-9a-fA-F]{8}-*[0-9a-fA-F]{4}-*[0-9a-fA-F]{4}-*[0-9a-fA-F]{4}-*[0-9a-fA-F]{12}$');
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'VE005',
			MESSAGE = pg_catalog.format('"id" of event %s of the batch is not a valid uuid', bad.i),
			HINT = 'Event ids are uuids such as "0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6a", or omit "id" to have one generated.';
	END LOOP;

	/* 1. A retry of a batch that is already stored?  (check_retry() in C) */
	IF append.events @? '$[*].id ? (@.type() == "string")' THEN
		SELECT pg_catalog.array_agg(CASE pg_catalog.jsonb_typeof(e.ev -> 'id') WHEN 'string'
					THEN pg_catalog.replace(e.ev ->> 'id', '-', '')::uuid END ORDER BY e.i)
		  INTO idx
		  FROM pg_catalog.jsonb_array_elements(append.events) WITH ORDINALITY AS e(ev, i);
		nids := pg_catalog.cardinality(pg_catalog.array_remove(idx, NULL));

		/* The same id twice in one batch can never be stored. */
		SELECT d.id, d.places[1] AS one, d.places[2] AS two INTO dup
		  FROM (SELECT x.id, pg_catalog.array_agg(x.i ORDER BY x.i) AS places
				  FROM pg_catalog.unnest(idx) WITH ORDINALITY AS x(id, i)
				 WHERE x.id IS NOT NULL
				 GROUP BY x.id HAVING pg_catalog.count(*) > 1) AS d
		 ORDER BY d.id LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION USING ERRCODE = 'VE007',
				MESSAGE = pg_catalog.format('event id %s appears twice in the batch (events %s and %s)', dup.id, dup.one, dup.two);
		END IF;

		SELECT pg_catalog.array_agg(e.event_id), pg_catalog.array_agg(e.aggregate_id),
			   pg_catalog.array_agg(e.version), pg_catalog.array_agg(e.aggregate_type)
		  INTO s_ids, s_aggs, s_versions, s_types
		  FROM eventstore.events e
		 WHERE e.event_id = ANY (pg_catalog.array_remove(idx, NULL));
		stored := COALESCE(pg_catalog.cardinality(s_ids), 0);

		IF stored > 0 THEN
			/*
			 * Some ids are stored.  It is a retry only if every event has an id
			 * and event i is stored for this aggregate at version first + i.
			 */
			FOR r IN 1 .. stored LOOP
				pos := pg_catalog.array_position(idx, s_ids[r]) - 1;
				IF s_aggs[r] <> append.aggregate_id THEN
					RAISE EXCEPTION USING ERRCODE = 'VE007',
						MESSAGE = pg_catalog.format('event id %s is already stored for another aggregate', s_ids[r]),
						DETAIL = pg_catalog.format('Event %s of the batch has the id of version %s of aggregate %s.',
												   pos + 1, s_versions[r], s_aggs[r]);
				END IF;
				IF r = 1 THEN
					first := s_versions[r] - pos;
				END IF;
				IF nids <> n OR stored <> n OR s_versions[r] <> first + pos THEN
					RAISE EXCEPTION USING ERRCODE = 'VE007',
						MESSAGE = pg_catalog.format('event id %s is already stored for aggregate %s at version %s',
													s_ids[r], append.aggregate_id, s_versions[r]),
						DETAIL = pg_catalog.format('%s of the %s events of the batch are already stored, not as the same batch.',
												   stored, n),
						HINT = 'A retry must send the same events, with the same ids, in the same order.';
				END IF;
			END LOOP;

			/* The whole batch is stored, in order.  Is it where this call wanted it? */
			IF NOT any_version AND expected <> first - 1 THEN
				RAISE EXCEPTION USING ERRCODE = 'VE001',
					MESSAGE = pg_catalog.format('wrong expected version for aggregate %s: expected %s, but these events are stored at versions %s to %s',
												append.aggregate_id, expected, first, first + n - 1);
			END IF;
			IF s_types[1] <> append.aggregate_type THEN
				RAISE EXCEPTION USING ERRCODE = 'VE002',
					MESSAGE = pg_catalog.format('aggregate %s is of type "%s", not "%s"',
												append.aggregate_id, s_types[1], append.aggregate_type);
			END IF;
			RETURN first + n - 1;
		END IF;
		first := -1;
	END IF;

	/*
	 * 2. and 3.  Advance the aggregate, or find out why not.  The loop runs
	 * again only when a concurrent writer created the aggregate between our
	 * UPDATE and INSERT; the next UPDATE then sees it.
	 */
	FOR attempt IN 0 .. 10 LOOP
		IF attempt >= 10 THEN
			RAISE EXCEPTION USING ERRCODE = '40001',
				MESSAGE = pg_catalog.format('could not append to aggregate %s: it kept changing concurrently', append.aggregate_id);
		END IF;

		UPDATE eventstore.aggregates a
		   SET version = a.version + n,
			   updated_at = pg_catalog.now()
		 WHERE a.aggregate_id = append.aggregate_id
		   AND a.aggregate_type = append.aggregate_type
		   AND (expected IS NULL OR a.version = expected)
		RETURNING a.version INTO result;
		IF FOUND THEN
			first := result - n;
			EXIT;
		END IF;

		SELECT a.aggregate_type, a.version INTO stored_type, actual
		  FROM eventstore.aggregates a
		 WHERE a.aggregate_id = append.aggregate_id;
		IF FOUND THEN
			IF stored_type <> append.aggregate_type THEN
				RAISE EXCEPTION USING ERRCODE = 'VE002',
					MESSAGE = pg_catalog.format('aggregate %s is of type "%s", not "%s"',
												append.aggregate_id, stored_type, append.aggregate_type);
			END IF;

			/*
			 * The row was committed by a concurrent writer after our UPDATE
			 * took its snapshot (READ COMMITTED): it is a match we could not
			 * see yet, so try the UPDATE again with a new snapshot.
			 */
			CONTINUE WHEN any_version OR actual = expected;
			RAISE EXCEPTION USING ERRCODE = 'VE001',
				MESSAGE = pg_catalog.format('wrong expected version for aggregate %s: expected %s, actual %s',
											append.aggregate_id, expected, actual),
				HINT = pg_catalog.format('Load the events after version %s, decide again, and retry with expected_version %s.',
										 expected, actual);
		END IF;

		/* No such aggregate. */
		IF NOT any_version AND expected <> 0 THEN
			RAISE EXCEPTION USING ERRCODE = 'VE001',
				MESSAGE = pg_catalog.format('wrong expected version for aggregate %s: expected %s, actual 0',
											append.aggregate_id, expected),
				DETAIL = 'The aggregate does not exist.';
		END IF;
		INSERT INTO eventstore.aggregates AS a (aggregate_id, aggregate_type, version)
		VALUES (append.aggregate_id, append.aggregate_type, n)
		ON CONFLICT (aggregate_id) DO NOTHING
		RETURNING a.version INTO result;
		IF FOUND THEN
			first := 0;
			EXIT;
		END IF;
	END LOOP;

	/*
	 * 4. The events, in one statement.  jsonb_to_recordset reads the four
	 * keys of each event in one pass; it turns a JSON null into NULL, so
	 * "data": null (stored as JSON null) is told from no "data" ({}) by the
	 * event itself.
	 */
	INSERT INTO eventstore.events
		   (aggregate_id, version, aggregate_type, event_id, type, data, metadata)
	SELECT append.aggregate_id, first + e.i, append.aggregate_type,
		   COALESCE(pg_catalog.replace(e.id, '-', '')::uuid, pg_catalog.gen_random_uuid()),
		   e.type,
		   COALESCE(e.data, CASE WHEN e.ev ? 'data' THEN 'null'::jsonb ELSE '{}'::jsonb END),
		   COALESCE(e.metadata, '{}'::jsonb)
	  FROM ROWS FROM (pg_catalog.jsonb_array_elements(append.events),
					  pg_catalog.jsonb_to_recordset(append.events) AS (type text, data jsonb, metadata jsonb, id text))
		   WITH ORDINALITY AS e(ev, type, data, metadata, id, i);
	GET DIAGNOSTICS inserted = ROW_COUNT;
	IF inserted <> n THEN
		RAISE EXCEPTION 'inserted % events instead of %', inserted, n;
	END IF;
	RETURN result;
END
$append$;
REVOKE ALL ON FUNCTION eventstore.append(uuid, text, bigint, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION eventstore.append(uuid, text, bigint, jsonb) IS
	'Append a JSON array of events [{"type":..., "data":..., "metadata":..., "id":...}] to an aggregate atomically. expected_version: NULL = any, 0 = must not exist, N = must be at N. Returns the version of the last appended event.';
