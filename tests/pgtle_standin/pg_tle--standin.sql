/*
 * pg_tle--standin.sql - a local stand-in for pg_tle's extension management
 * API, for tests/t_sql_flavour.sh on machines without pg_tle.
 *
 * It keeps pg_tle's contract for what the eventstore registration script
 * uses: the pgtle schema and the pgtle_admin role; install_extension(name,
 * version, description, ext, requires, schema), install_update_path,
 * set_default_version and available_extension_versions() with pg_tle's
 * signatures, argument checks, error messages and SQLSTATEs (from pg_tle's
 * src/tleextension.c), callable only by pgtle_admin; the control it records
 * is pg_tle's (superuser = false, trusted = false, relocatable = false,
 * requires pg_tle); a name that has a control file on disk is refused; the
 * script is refused if it contains pg_tle's quotes.
 *
 * Where pg_tle hooks CREATE EXTENSION to read the script from the database,
 * the stand-in writes the control file and the script into the server's
 * extension directory (a private copy of the installation, see the test), so
 * that PostgreSQL's own CREATE EXTENSION and ALTER EXTENSION ... UPDATE run
 * them, as pg_tle's copy of that code does.
 */
\echo Use "CREATE EXTENSION pg_tle" to load this file. \quit

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgtle_admin') THEN
		CREATE ROLE pgtle_admin NOLOGIN;
	END IF;
END
$$;

CREATE TABLE pgtle.standin_versions (
	name		text NOT NULL,
	version		text NOT NULL,
	control		text NOT NULL,
	script		text NOT NULL,
	PRIMARY KEY (name, version)
);
CREATE TABLE pgtle.standin_paths (
	name		text NOT NULL,
	fromvers	text NOT NULL,
	tovers		text NOT NULL,
	script		text NOT NULL,
	PRIMARY KEY (name, fromvers, tovers)
);

CREATE FUNCTION pgtle.standin_write(filename text, content text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	dir text := (SELECT c.setting FROM pg_catalog.pg_config() c WHERE c.name = 'SHAREDIR') || '/extension/';
	lo oid;
BEGIN
	lo := pg_catalog.lo_from_bytea(0, pg_catalog.convert_to(content, 'UTF8'));
	PERFORM pg_catalog.lo_export(lo, dir || filename);
	PERFORM pg_catalog.lo_unlink(lo);
END
$$;

CREATE FUNCTION pgtle.standin_check_name(kind text, n text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF n = '' OR n LIKE '%--%' OR n LIKE '-%' OR n LIKE '%-' OR n LIKE '%/%'
	   OR (kind = 'extension' AND n !~ '^[A-Za-z0-9_@-]+$') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = CASE kind WHEN 'extension' THEN pg_catalog.format('invalid extension name: "%s"', n)
				  ELSE pg_catalog.format('invalid extension version name: "%s"', n) END;
	END IF;
END
$$;

CREATE FUNCTION pgtle.standin_check_sql(what text, s text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF pg_catalog.strpos(s, '$_pgtle_o_$') > 0 OR pg_catalog.strpos(s, '$_pgtle_i_$') > 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('invalid character in extension %s', what),
			DETAIL = 'Use of string delimiters "$_pgtle_o_$" and "$_pgtle_i_$" are forbidden in extension definitions.',
			HINT = 'This may be an attempt at a SQL injection attack. Please verify your installation file.';
	END IF;
END
$$;

CREATE FUNCTION pgtle.standin_no_file_based(n text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	-- pg_tle: "Verify that extname does not already exist as a standard file-based extension."
	IF EXISTS (SELECT FROM pg_catalog.pg_available_extensions() a WHERE a.name = n)
	   AND NOT EXISTS (SELECT FROM pgtle.standin_versions v WHERE v.name = n) THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = pg_catalog.format('control file already exists for the %s extension', n);
	END IF;
END
$$;

CREATE FUNCTION pgtle.standin_control(n text) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
	SELECT v.control FROM pgtle.standin_versions v WHERE v.name = n ORDER BY v.version LIMIT 1
$$;

CREATE FUNCTION pgtle.install_extension(name text, version text, description text, ext text,
										requires text[] DEFAULT NULL, schema text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	req text[];
	control text;
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = '"name" is a required argument';
	END IF;
	PERFORM pgtle.standin_check_name('extension', name);
	PERFORM pgtle.standin_no_file_based(name);
	IF version IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = '"version" is a required argument';
	END IF;
	PERFORM pgtle.standin_check_name('version', version);
	IF description IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = '"description" is a required argument';
	END IF;
	IF ext IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = '"ext" is a required argument';
	END IF;
	req := COALESCE(requires, '{}');
	IF NOT 'pg_tle' = ANY (req) THEN
		req := req || 'pg_tle'::text;
	END IF;
	control := pg_catalog.format(E'comment = %L\ndefault_version = %L\nrelocatable = false\nsuperuser = false\ntrusted = false\nrequires = %L\n',
								 description, version, pg_catalog.array_to_string(req, ', '))
			   || CASE WHEN schema IS NOT NULL THEN pg_catalog.format(E'schema = %L\n', schema) ELSE '' END;
	PERFORM pgtle.standin_check_sql('definition', control || ext);
	IF EXISTS (SELECT FROM pgtle.standin_versions v WHERE v.name = install_extension.name) THEN
		RAISE EXCEPTION USING ERRCODE = '42710', MESSAGE = pg_catalog.format('extension "%s" already installed', name);
	END IF;
	INSERT INTO pgtle.standin_versions VALUES (name, version, control, ext);
	PERFORM pgtle.standin_write(name || '.control', control);
	PERFORM pgtle.standin_write(name || '--' || version || '.sql', ext);
	RETURN true;
END
$$;

CREATE FUNCTION pgtle.install_update_path(name text, fromvers text, tovers text, ext text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = '"name" is a required argument';
	END IF;
	PERFORM pgtle.standin_check_name('extension', name);
	PERFORM pgtle.standin_no_file_based(name);
	IF fromvers IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = '"fromvers" is a required argument';
	END IF;
	IF tovers IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = '"tovers" is a required argument';
	END IF;
	PERFORM pgtle.standin_check_name('version', fromvers);
	PERFORM pgtle.standin_check_name('version', tovers);
	IF ext IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = '"ext" is a required argument';
	END IF;
	PERFORM pgtle.standin_check_sql('update definition', ext);
	IF EXISTS (SELECT FROM pgtle.standin_paths p WHERE p.name = install_update_path.name
				  AND p.fromvers = install_update_path.fromvers AND p.tovers = install_update_path.tovers) THEN
		RAISE EXCEPTION USING ERRCODE = '42710',
			MESSAGE = pg_catalog.format('extension "%s" update path "%s-%s" already installed', name, fromvers, tovers),
			HINT = 'To update this specific install path, first use "pgtle.uninstall_update_path".';
	END IF;
	INSERT INTO pgtle.standin_paths VALUES (name, fromvers, tovers, ext);
	PERFORM pgtle.standin_write(name || '--' || fromvers || '--' || tovers || '.sql', ext);
	RETURN true;
END
$$;

CREATE FUNCTION pgtle.set_default_version(name text, version text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	control text := pgtle.standin_control(name);
BEGIN
	IF control IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = pg_catalog.format('extension "%s" does not exist', name);
	END IF;
	IF NOT EXISTS (SELECT FROM pgtle.standin_versions v WHERE v.name = set_default_version.name AND v.version = set_default_version.version)
	   AND NOT EXISTS (SELECT FROM pgtle.standin_paths p WHERE p.name = set_default_version.name AND p.tovers = set_default_version.version) THEN
		RAISE EXCEPTION USING ERRCODE = '42704',
			MESSAGE = pg_catalog.format('version "%s" of extension "%s" is not installed', version, name);
	END IF;
	control := pg_catalog.regexp_replace(control, E'default_version = [^\n]*', pg_catalog.format('default_version = %L', version));
	UPDATE pgtle.standin_versions v SET control = set_default_version.control WHERE v.name = set_default_version.name;
	PERFORM pgtle.standin_write(name || '.control', control);
	RETURN true;
END
$$;

CREATE FUNCTION pgtle.available_extension_versions(
	OUT name name, OUT version text, OUT superuser boolean, OUT trusted boolean,
	OUT relocatable boolean, OUT schema name, OUT requires name[], OUT comment text)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT a.name, a.version, a.superuser, a.trusted, a.relocatable, a.schema, a.requires, a.comment
	  FROM pg_catalog.pg_available_extension_versions() a
	 WHERE a.name IN (SELECT v.name FROM pgtle.standin_versions v)
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pgtle FROM PUBLIC;
GRANT USAGE ON SCHEMA pgtle TO PUBLIC;
GRANT EXECUTE ON FUNCTION pgtle.available_extension_versions() TO PUBLIC;
GRANT EXECUTE ON FUNCTION pgtle.install_extension(text, text, text, text, text[], text),
					   pgtle.install_update_path(text, text, text, text),
					   pgtle.set_default_version(text, text)
	TO pgtle_admin;
