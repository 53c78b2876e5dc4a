-- sql_flavour_fingerprint.sql - one line per property of every object of
-- schema eventstore (tables, columns, defaults, constraints, indexes,
-- triggers, functions with their settings and bodies, privileges, comments),
-- for tests/t_sql_flavour.sh to compare installations byte for byte.  The
-- owner's name is replaced by OWNER; append()'s language and body, the only
-- things the flavours differ in, are left out.
WITH owner AS (
	SELECT n.nspowner::regrole::text AS name FROM pg_namespace n WHERE n.nspname = 'eventstore'
), lines AS (
	SELECT 'schema acl ' || COALESCE(n.nspacl::text, '-') AS line
	  FROM pg_namespace n WHERE n.nspname = 'eventstore'
	UNION ALL
	SELECT format('relation %s kind %s acl %s comment %s', c.relname, c.relkind,
				  COALESCE(c.relacl::text, '-'), COALESCE(obj_description(c.oid, 'pg_class'), '-'))
	  FROM pg_class c WHERE c.relnamespace = 'eventstore'::regnamespace
	UNION ALL
	SELECT format('column %s.%s %s %s notnull %s default %s', c.relname, a.attnum, a.attname,
				  format_type(a.atttypid, a.atttypmod), a.attnotnull,
				  COALESCE(pg_get_expr(d.adbin, d.adrelid), '-'))
	  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
	 WHERE c.relnamespace = 'eventstore'::regnamespace AND c.relkind = 'r'
	UNION ALL
	SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
	  FROM pg_constraint WHERE connamespace = 'eventstore'::regnamespace
	UNION ALL
	SELECT 'index ' || pg_get_indexdef(i.indexrelid)
	  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'eventstore'::regnamespace
	UNION ALL
	SELECT 'trigger ' || pg_get_triggerdef(t.oid)
	  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'eventstore'::regnamespace
	UNION ALL
	SELECT format('function %s(%s) returns %s secdef %s volatile %s strict %s parallel %s rows %s config %s acl %s comment %s%s',
				  p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), p.prosecdef,
				  p.provolatile, p.proisstrict, p.proparallel, p.prorows, COALESCE(p.proconfig::text, '-'),
				  COALESCE(p.proacl::text, '-'), COALESCE(obj_description(p.oid, 'pg_proc'), '-'),
				  CASE WHEN p.proname = 'append' THEN ''
					   ELSE format(' language %s body %s', l.lanname,
								   COALESCE(pg_get_function_sqlbody(p.oid), p.prosrc)) END)
	  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	 WHERE p.pronamespace = 'eventstore'::regnamespace
	UNION ALL
	SELECT format('role %s login %s', rolname, rolcanlogin) FROM pg_roles WHERE rolname LIKE 'eventstore\_%'
)
SELECT regexp_replace(l.line, '(^|[{,= /"])' || o.name || '([=/,}" ]|$)', '\1OWNER\2', 'g')
  FROM lines l, owner o
 ORDER BY 1;
