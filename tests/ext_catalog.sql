-- ext_catalog.sql - what an extension put into the current database, one
-- sorted line (or definition) per fact, with no OIDs, so that two databases
-- can be compared with diff: an extension updated from an older version must
-- print exactly what a fresh CREATE EXTENSION prints.  Covers the extension's
-- member objects, their definitions, owners, privileges, settings and
-- comments, and what hangs on member tables (columns in order, defaults,
-- constraints, indexes, triggers, policies, rules).
--
--   psql -X -At -v ext=eventstore -d DB < tests/ext_catalog.sql
WITH ext AS (
	SELECT e.* FROM pg_catalog.pg_extension e WHERE e.extname = :'ext'
), m AS (
	SELECT d.classid, d.objid, d.objsubid
	  FROM pg_catalog.pg_depend d JOIN ext ON d.refobjid = ext.oid
	 WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
), rels AS (
	SELECT m.objid AS oid FROM m WHERE m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
)
SELECT line FROM (
	SELECT 'extension ' || ext.extname || ' ' || ext.extversion || ' schema ' || ext.extnamespace::regnamespace
		|| ' owner ' || ext.extowner::regrole || ' relocatable ' || ext.extrelocatable
		|| ' config ' || coalesce((SELECT string_agg(c::regclass::text, ',' ORDER BY c::regclass::text)
			FROM unnest(ext.extconfig) c), '')
	  FROM ext
	UNION ALL
	SELECT 'member ' || pg_catalog.pg_describe_object(m.classid, m.objid, m.objsubid) FROM m
	UNION ALL
	SELECT 'schema ' || n.nspname || ' owner ' || n.nspowner::regrole || ' acl ' || coalesce(n.nspacl::text, 'default')
	  FROM pg_catalog.pg_namespace n JOIN m ON m.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND m.objid = n.oid
	UNION ALL
	SELECT 'function ' || p.oid::regprocedure || ' owner ' || p.proowner::regrole
		|| ' acl ' || coalesce(p.proacl::text, 'default') || E'\n'
		|| CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_catalog.pg_get_functiondef(p.oid) END
	  FROM pg_catalog.pg_proc p JOIN m ON m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND m.objid = p.oid
	UNION ALL
	SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text || ' owner ' || t.typowner::regrole
		|| ' acl ' || coalesce(t.typacl::text, 'default')
		|| coalesce(' enum ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
			FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '')
		|| CASE WHEN t.typtype = 'd' THEN ' domain ' || pg_catalog.format_type(t.typbasetype, t.typtypmod)
			|| coalesce(' ' || (SELECT string_agg(pg_catalog.pg_get_constraintdef(c.oid), ' ' ORDER BY c.conname)
				FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid), '') ELSE '' END
	  FROM pg_catalog.pg_type t JOIN m ON m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND m.objid = t.oid
	UNION ALL
	SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text || ' owner ' || c.relowner::regrole
		|| ' acl ' || coalesce(c.relacl::text, 'default') || ' options ' || coalesce(c.reloptions::text, '')
		|| ' rls ' || c.relrowsecurity || '/' || c.relforcerowsecurity || ' persistence ' || c.relpersistence::text
		|| ' replica-identity ' || c.relreplident::text
	  FROM pg_catalog.pg_class c JOIN rels ON rels.oid = c.oid
	UNION ALL
	-- columns by position among the live ones: an upgrade that adds a column
	-- where a fresh install has it elsewhere changes SELECT * and load()
	SELECT 'column ' || a.attrelid::regclass || ' #'
		|| pg_catalog.rank() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) || ' ' || a.attname || ' '
		|| pg_catalog.format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
		|| coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
		|| ' identity "' || a.attidentity::text || '" generated "' || a.attgenerated::text || '"'
		|| coalesce(' collation ' || nullif(a.attcollation, 0)::regcollation::text, '')
		|| ' storage ' || a.attstorage::text || ' acl ' || coalesce(a.attacl::text, 'default')
	  FROM pg_catalog.pg_attribute a JOIN rels ON rels.oid = a.attrelid
	  LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	 WHERE a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT 'constraint ' || c.conrelid::regclass || ' ' || c.conname || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
		|| CASE WHEN c.condeferrable THEN ' deferrable' ELSE '' END
	  FROM pg_catalog.pg_constraint c JOIN rels ON rels.oid = c.conrelid
	UNION ALL
	SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
	  FROM pg_catalog.pg_index i JOIN rels ON rels.oid = i.indrelid
	UNION ALL
	SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
	  FROM pg_catalog.pg_trigger t JOIN rels ON rels.oid = t.tgrelid
	 WHERE NOT t.tgisinternal
	UNION ALL
	SELECT 'policy ' || p.polrelid::regclass || ' ' || p.polname || ' ' || p.polcmd::text || ' permissive ' || p.polpermissive
		|| ' roles ' || p.polroles::regrole[]::text
		|| ' using ' || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '')
		|| ' check ' || coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '')
	  FROM pg_catalog.pg_policy p JOIN rels ON rels.oid = p.polrelid
	UNION ALL
	SELECT 'rule ' || pg_catalog.pg_get_ruledef(r.oid)
	  FROM pg_catalog.pg_rewrite r JOIN rels ON rels.oid = r.ev_class
	UNION ALL
	SELECT 'sequence ' || s.seqrelid::regclass || ' ' || pg_catalog.format_type(s.seqtypid, NULL) || ' start ' || s.seqstart
		|| ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache
		|| ' cycle ' || s.seqcycle
	  FROM pg_catalog.pg_sequence s JOIN rels ON rels.oid = s.seqrelid
	UNION ALL
	SELECT 'comment ' || pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
	  FROM pg_catalog.pg_description d
	 WHERE (d.classoid, d.objoid) IN (SELECT m.classid, m.objid FROM m)
	UNION ALL
	-- the privileges pg_dump treats as the extension's own
	SELECT 'init-privs ' || pg_catalog.pg_describe_object(i.classoid, i.objoid, i.objsubid) || ' ' || i.initprivs::text
	  FROM pg_catalog.pg_init_privs i
	 WHERE i.privtype = 'e' AND (i.classoid, i.objoid) IN (SELECT m.classid, m.objid FROM m)
) facts(line)
ORDER BY line COLLATE "C";
