-- decode_options_random: the plugin's options with generated names and
-- values (duplicates, case, blanks, empty list items).  Each
-- call must fail exactly when an oracle written from docs/output-plugin.md
-- says so, with its SQLSTATE (22023 bad option or value, 42601 repeated
-- option), or emit valid JSON honouring the filters.  Deterministic (setseed).
-- (A bare option, NULL value, cannot be passed through the SQL functions.)
SET synchronous_commit = on;
SELECT setseed(0.61);
SELECT 'init' FROM pg_create_logical_replication_slot('es_opts_random', 'eventstore');
BEGIN;
SELECT eventstore.append('fb000000-0000-0000-0000-000000000001', 'cart', 0,
	'[{"type": "CartOpened"}, {"type": "ItemAdded", "data": {"sku": "A"}}]');
SELECT eventstore.append('fb000000-0000-0000-0000-000000000002', 'order', 0,
	'[{"type": "OrderPlaced", "data": {"total": 10}}]');
COMMIT;
SELECT eventstore.append('fb000000-0000-0000-0000-000000000003', E'caf\u00e9', 0,
	'[{"type": "Opened"}, {"type": "Item Added"}]');

CREATE TEMP TABLE option_outcomes (outcome text, calls int);

DO $$
DECLARE
	bool_opts text[] := ARRAY['include-transaction', 'include-source', 'include-database', 'include-lsn',
							  'include-xids', 'include-timestamp', 'pretty-print'];
	list_opts text[] := ARRAY['aggregate-types', 'event-types'];
	bad_names text[] := ARRAY['Include-LSN', 'include_lsn', '', 'x', 'aggregate-types ', E'pretty-print\t'];
	bool_vals text[] := ARRAY['on', 'off', 'true', 'false', '1', '0', 'yes', 'no', 't', 'f', 'ON', 'Of', ' on',
							  'on ', 'maybe', '', '2', 'tr'];
	list_vals text[] := ARRAY['cart', 'cart,order', ' cart , order ', E'caf\u00e9', 'a,,b', ',cart', 'cart,',
							  ' ', 'CartOpened', 'ItemAdded,OrderPlaced', 'Item Added', 'nothing', ''];
	opts text[];
	names text[];
	expect text;
	state text;
	msg text;
	r float8;
	name text;
	val text;
	agg_list text[];
	type_list text[];
	markers boolean;
	row record;
	i int;
	j int;
	n int;
	valid boolean;
BEGIN
	FOR i IN 1..600 LOOP
		opts := '{}';
		names := '{}';
		expect := 'ok';
		agg_list := NULL;
		type_list := NULL;
		markers := false;
		n := (random() * 4)::int;
		FOR j IN 1..n LOOP
			r := random();
			IF r < 0.55 THEN
				name := bool_opts[1 + (random() * 6)::int];
				val := bool_vals[1 + (random() * 17)::int];
			ELSIF r < 0.9 THEN
				name := list_opts[1 + (random() * 1)::int];
				val := list_vals[1 + (random() * 12)::int];
			ELSE
				name := bad_names[1 + (random() * 5)::int];
				val := 'on';
			END IF;
			opts := opts || name || val;
			-- the oracle: the first problem in option order decides the error
			IF expect = 'ok' THEN
				IF name = ANY (names) THEN
					expect := '42601';
				ELSIF name = ANY (bool_opts) THEN
					IF val IS NOT NULL THEN
						BEGIN
							valid := val = btrim(val, E' \t\n\r') AND val <> '';
							IF valid THEN
								PERFORM val::boolean;
							END IF;
						EXCEPTION WHEN invalid_text_representation THEN
							valid := false;
						END;
						IF NOT valid THEN
							expect := '22023';
						ELSIF name = 'include-transaction' THEN
							markers := val::boolean;
						END IF;
					ELSIF name = 'include-transaction' THEN
						markers := true;
					END IF;
				ELSIF name = ANY (list_opts) THEN
					IF val IS NULL OR val = '' OR EXISTS (SELECT FROM unnest(string_to_array(val, ',')) t
											   WHERE btrim(t, E' \t') = '') THEN
						expect := '22023';
					ELSIF name = 'aggregate-types' THEN
						agg_list := ARRAY(SELECT btrim(t, E' \t') FROM unnest(string_to_array(val, ',')) t);
					ELSE
						type_list := ARRAY(SELECT btrim(t, E' \t') FROM unnest(string_to_array(val, ',')) t);
					END IF;
				ELSE
					expect := '22023';
				END IF;
			END IF;
			names := names || name;
		END LOOP;
		state := 'ok';
		msg := NULL;
		BEGIN
			FOR row IN SELECT data FROM pg_logical_slot_peek_changes('es_opts_random', NULL, NULL, VARIADIC opts) LOOP
				IF (row.data::jsonb ? 'kind') THEN
					IF NOT markers THEN
						RAISE EXCEPTION 'case %: a marker without include-transaction (%): %', i, opts, row.data;
					END IF;
				ELSIF (agg_list IS NOT NULL AND NOT (row.data::jsonb ->> 'aggregate_type') = ANY (agg_list)) OR
					  (type_list IS NOT NULL AND NOT (row.data::jsonb ->> 'type') = ANY (type_list)) THEN
					RAISE EXCEPTION 'case %: filters % let through %', i, opts, row.data;
				END IF;
			END LOOP;
		EXCEPTION WHEN invalid_parameter_value OR syntax_error THEN
			GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		END;
		IF state <> expect THEN
			RAISE EXCEPTION 'case %: options % gave % (%), expected %', i, opts, state, msg, expect;
		END IF;
		UPDATE option_outcomes o SET calls = o.calls + 1 WHERE o.outcome = state;
		IF NOT FOUND THEN
			INSERT INTO option_outcomes VALUES (state, 1);
		END IF;
	END LOOP;
END $$;

SELECT outcome, calls > 0 AS reached FROM option_outcomes ORDER BY 1;
SELECT 'dropped' FROM pg_drop_replication_slot('es_opts_random');
