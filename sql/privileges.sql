-- privileges: least-privilege roles, append-only events, pinned search_path
CREATE ROLE es_test_writer LOGIN IN ROLE eventstore_writer;
CREATE ROLE es_test_reader LOGIN IN ROLE eventstore_reader;
CREATE ROLE es_test_other LOGIN;
GRANT USAGE ON SCHEMA public TO es_test_writer, es_test_reader, es_test_other;
GRANT EXECUTE ON FUNCTION public.try(text) TO es_test_writer, es_test_reader, es_test_other;

SET ROLE es_test_writer;
SELECT eventstore.append('c0000000-0000-0000-0000-000000000001', 'cart', 0, '[{"type": "CartOpened"}]');
SELECT count(*) FROM eventstore.load('c0000000-0000-0000-0000-000000000001');
-- writers go through append() only
SELECT try($$INSERT INTO eventstore.events (aggregate_id, version, aggregate_type, event_id, type)
			 VALUES ('c0000000-0000-0000-0000-000000000001', 2, 'cart', gen_random_uuid(), 'X')$$);
SELECT try($$UPDATE eventstore.aggregates SET version = 9$$);
SELECT try($$UPDATE eventstore.events SET type = 'Y'$$);
SELECT try($$DELETE FROM eventstore.events$$);
SELECT try($$TRUNCATE eventstore.events$$);
RESET ROLE;

SET ROLE es_test_reader;
SELECT count(*) FROM eventstore.load('c0000000-0000-0000-0000-000000000001');
SELECT eventstore.version('c0000000-0000-0000-0000-000000000001');
SELECT try($$SELECT eventstore.append('c0000000-0000-0000-0000-000000000001', 'cart', 1, '[{"type": "X"}]')$$);
RESET ROLE;

SET ROLE es_test_other;
SELECT try($$SELECT count(*) FROM eventstore.events$$);
SELECT try($$SELECT eventstore.append('c0000000-0000-0000-0000-000000000009', 'cart', 0, '[{"type": "X"}]')$$);
RESET ROLE;

-- even if someone grants UPDATE/DELETE/TRUNCATE by mistake, the events stay append-only
GRANT USAGE ON SCHEMA eventstore TO es_test_other;
GRANT SELECT, UPDATE, DELETE, TRUNCATE ON eventstore.events TO es_test_other;
SET ROLE es_test_other;
SELECT try($$UPDATE eventstore.events SET type = 'Y' WHERE aggregate_id = 'c0000000-0000-0000-0000-000000000001'$$);
SELECT try($$DELETE FROM eventstore.events WHERE aggregate_id = 'c0000000-0000-0000-0000-000000000001'$$);
SELECT try($$TRUNCATE eventstore.events$$);
RESET ROLE;
REVOKE SELECT, UPDATE, DELETE, TRUNCATE ON eventstore.events FROM es_test_other;
REVOKE USAGE ON SCHEMA eventstore FROM es_test_other;

-- the owner may still repair data
UPDATE eventstore.events SET metadata = '{"repaired": true}'
 WHERE aggregate_id = 'c0000000-0000-0000-0000-000000000001';
SELECT metadata FROM eventstore.events WHERE aggregate_id = 'c0000000-0000-0000-0000-000000000001';

-- a hostile search_path does not redirect append(): its statements are schema-qualified
CREATE SCHEMA evil;
CREATE TABLE evil.events (LIKE eventstore.events);
CREATE TABLE evil.aggregates (LIKE eventstore.aggregates);
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT 'epoch'::timestamptz $$;
SET search_path = evil, public;
SELECT eventstore.append('c0000000-0000-0000-0000-000000000002', 'cart', 0, '[{"type": "CartOpened"}]');
SELECT count(*) AS in_evil FROM evil.events;
SELECT count(*) AS in_eventstore, bool_and(recorded_at > 'epoch') AS real_time
  FROM eventstore.events WHERE aggregate_id = 'c0000000-0000-0000-0000-000000000002';
RESET search_path;
DROP SCHEMA evil CASCADE;

DROP OWNED BY es_test_writer, es_test_reader, es_test_other;
DROP ROLE es_test_writer, es_test_reader, es_test_other;
