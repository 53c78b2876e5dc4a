/*-------------------------------------------------------------------------
 *
 * append.c
 *		eventstore.append(aggregate_id, aggregate_type, expected_version,
 *						  events): the write path of the event store.
 *
 * An append checks its arguments and validates the whole batch first
 * (read_arguments, validate_batch: a bad event fails the call before
 * anything is written), then in this order:
 *
 *	1. check_retry: if any event carries an id, looks the ids up; a batch
 *	   that is already stored whole, for this aggregate, at consecutive
 *	   versions, is a retry and returns the version of its last event without
 *	   writing anything; any other overlap is an error (VE007);
 *	2. lock_aggregate: advances the aggregate row in one UPDATE whose WHERE
 *	   clause checks the type and the expected version; the row lock it
 *	   takes serialises the writers of one aggregate, so versions are gapless
 *	   and exactly one of two writers with the same expected version wins.
 *	   If no row matched, finds out why (wrong version, wrong type, or no
 *	   such aggregate) or creates the aggregate (INSERT ... ON CONFLICT DO
 *	   NOTHING, which waits for a concurrent creator and then lets the next
 *	   UPDATE decide);
 *	3. insert_events: all events with one INSERT over unnest()ed arrays.
 *
 * Every statement is a plan prepared once per backend and kept (SPI_keepplan).
 *
 * IDENTIFICATION
 *		src/append.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"

#include "eventstore.h"

PG_FUNCTION_INFO_V1(eventstore_append);

/* One validated event of a batch. */
typedef struct EsEvent
{
	bool	  has_id;	/* did the caller supply an id? */
	pg_uuid_t id;		/* the id, if has_id */
	Datum	  type;		/* text */
	Datum	  data;		/* jsonb */
	Datum	  metadata; /* jsonb */
} EsEvent;

/* One call of eventstore.append(), its arguments checked. */
typedef struct EsAppendRequest
{
	pg_uuid_t *aggregate_id;
	text	  *aggregate_type;
	bool	   any_version; /* expected_version is NULL */
	int64	   expected;	/* expected_version, unless any_version */
	EsEvent	  *events;		/* the validated batch */
	int		   n;			/* number of events */
} EsAppendRequest;

/* Plans, prepared on first use and kept for the life of the backend. */
static SPIPlanPtr plan_find_ids = NULL;
static SPIPlanPtr plan_advance = NULL;
static SPIPlanPtr plan_get_aggregate = NULL;
static SPIPlanPtr plan_create_aggregate = NULL;
static SPIPlanPtr plan_insert_events = NULL;

static SPIPlanPtr
prepare_kept(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

static void
prepare_plans(void)
{
	if (plan_insert_events != NULL)
		return;

	{
		Oid t[1] = {UUIDARRAYOID};

		plan_find_ids =
			prepare_kept("SELECT e.event_id, e.aggregate_id, e.version, e.aggregate_type"
						 "  FROM eventstore.events e"
						 " WHERE e.event_id OPERATOR(pg_catalog.=) ANY ($1)",
						 1, t);
	}
	{
		Oid t[4] = {UUIDOID, INT8OID, TEXTOID, INT8OID};

		plan_advance =
			prepare_kept("UPDATE eventstore.aggregates a"
						 "   SET version = a.version OPERATOR(pg_catalog.+) $2,"
						 "       updated_at = pg_catalog.now()"
						 " WHERE a.aggregate_id OPERATOR(pg_catalog.=) $1"
						 "   AND a.aggregate_type OPERATOR(pg_catalog.=) $3"
						 "   AND ($4 IS NULL OR a.version OPERATOR(pg_catalog.=) $4)"
						 " RETURNING a.version",
						 4, t);
	}
	{
		Oid t[1] = {UUIDOID};

		plan_get_aggregate =
			prepare_kept("SELECT a.aggregate_type, a.version"
						 "  FROM eventstore.aggregates a"
						 " WHERE a.aggregate_id OPERATOR(pg_catalog.=) $1",
						 1, t);
	}
	{
		Oid t[3] = {UUIDOID, TEXTOID, INT8OID};

		plan_create_aggregate =
			prepare_kept("INSERT INTO eventstore.aggregates AS a (aggregate_id, aggregate_type, version)"
						 " VALUES ($1, $2, $3)"
						 " ON CONFLICT (aggregate_id) DO NOTHING"
						 " RETURNING a.version",
						 3, t);
	}
	{
		Oid t[7] = {UUIDOID,	  INT8OID,		 TEXTOID,	   UUIDARRAYOID,
					TEXTARRAYOID, JSONBARRAYOID, JSONBARRAYOID};

		plan_insert_events =
			prepare_kept("INSERT INTO eventstore.events"
						 "       (aggregate_id, version, aggregate_type, event_id, type, data, metadata)"
						 "SELECT $1, $2 OPERATOR(pg_catalog.+) e.ord, $3,"
						 "       COALESCE(e.id, pg_catalog.gen_random_uuid()),"
						 "       e.type, e.data, e.metadata"
						 "  FROM ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5),"
						 "                 pg_catalog.unnest($6), pg_catalog.unnest($7))"
						 "       WITH ORDINALITY AS e(id, type, data, metadata, ord)",
						 7, t);
	}
}

/*
 * Parse a uuid in its canonical 8-4-4-4-12 form (hyphens optional, either
 * case).  Returns false instead of raising 22P02 as uuid_in would, so that
 * a malformed id gets the event store's own SQLSTATE.
 */
static bool
parse_uuid(const char *s, int len, pg_uuid_t *out)
{
	int i = 0;
	int n = 0;

	while (i < len && n < UUID_LEN * 2)
	{
		char c = s[i++];
		int	 v;

		if (c == '-' && (n == 8 || n == 12 || n == 16 || n == 20))
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return false;
		if (n % 2 == 0)
			out->data[n / 2] = (unsigned char) (v << 4);
		else
			out->data[n / 2] |= (unsigned char) v;
		n++;
	}
	return n == UUID_LEN * 2 && i == len;
}

/* Byte-wise equality, as the UPDATE's "=" on the deterministic column. */
static bool
text_equal(text *a, text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		   memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

static char *
uuid_to_cstring(const pg_uuid_t *u)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(u)));
}

/* Look up a key of an event object; false if absent. */
static bool
event_key(JsonbContainer *obj, const char *key, JsonbValue *out)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), out) != NULL;
}

/*
 * Validate event number i (0-based) of the batch and fill *ev.  The size
 * counted against eventstore.max_event_size is the compact JSON text of the
 * type, data and metadata, i.e. what the output plugin will write for them.
 */
static void
parse_event(JsonbValue *elem, int i, EsEvent *ev, StringInfo scratch,
			Datum empty_object)
{
	JsonbContainer	  *obj;
	JsonbIterator	  *it;
	JsonbIteratorToken tok;
	JsonbValue		   v;
	int				   size;

	if (elem->type != jbvBinary || !JsonContainerIsObject(elem->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_ES_INVALID_EVENT),
				 errmsg("event %d of the batch is not a JSON object", i + 1),
				 errhint("Each event is an object like {\"type\": \"ItemAdded\", \"data\": {...}}.")));
	obj = elem->val.binary.data;

	/* Reject unknown keys: a misspelt "Type" or "meta" must not pass silently. */
	it = JsonbIteratorInit(obj);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		if (!((v.val.string.len == 4 && memcmp(v.val.string.val, "type", 4) == 0) ||
			  (v.val.string.len == 4 && memcmp(v.val.string.val, "data", 4) == 0) ||
			  (v.val.string.len == 8 &&
			   memcmp(v.val.string.val, "metadata", 8) == 0) ||
			  (v.val.string.len == 2 && memcmp(v.val.string.val, "id", 2) == 0)))
			ereport(ERROR,
					(errcode(ERRCODE_ES_INVALID_EVENT),
					 errmsg("event %d of the batch has an unknown key \"%.*s\"",
							i + 1, Min(v.val.string.len, 64), v.val.string.val),
					 errhint("The keys of an event are \"type\", \"data\", \"metadata\" and \"id\".")));
	}

	/* type: a non-empty string */
	if (!event_key(obj, "type", &v) || v.type == jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_ES_EVENT_MISSING_TYPE),
				 errmsg("event %d of the batch has no \"type\"", i + 1),
				 errhint("Give every event a non-empty string \"type\", such as \"ItemAdded\".")));
	if (v.type != jbvString || v.val.string.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ES_EVENT_MISSING_TYPE),
				 errmsg("\"type\" of event %d of the batch must be a non-empty string",
						i + 1)));
	ev->type = PointerGetDatum(cstring_to_text_with_len(v.val.string.val,
														v.val.string.len));
	size = v.val.string.len;

	/* data: any JSON value, {} if absent */
	resetStringInfo(scratch);
	if (event_key(obj, "data", &v))
	{
		Jsonb *jb = JsonbValueToJsonb(&v);

		es_jsonb_append_compact(scratch, &jb->root);
		ev->data = JsonbPGetDatum(jb);
	}
	else
	{
		ev->data = empty_object;
		appendStringInfoString(scratch, "{}");
	}

	/* metadata: an object, {} if absent or null */
	if (event_key(obj, "metadata", &v) && v.type != jbvNull)
	{
		Jsonb *jb;

		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_ES_INVALID_EVENT),
					 errmsg("\"metadata\" of event %d of the batch must be a JSON object",
							i + 1)));
		jb = JsonbValueToJsonb(&v);
		es_jsonb_append_compact(scratch, &jb->root);
		ev->metadata = JsonbPGetDatum(jb);
	}
	else
	{
		ev->metadata = empty_object;
		appendStringInfoString(scratch, "{}");
	}
	size += scratch->len;

	if (size > es_max_event_size)
		ereport(ERROR,
				(errcode(ERRCODE_ES_EVENT_TOO_LARGE),
				 errmsg("event %d of the batch is too large: %d bytes of JSON, the limit is %d bytes",
						i + 1, size, es_max_event_size),
				 errdetail("One event must fit one Kinesis record."),
				 errhint("Store large payloads elsewhere and reference them, or raise eventstore.max_event_size.")));

	/* id: optional uuid string */
	ev->has_id = false;
	if (event_key(obj, "id", &v) && v.type != jbvNull)
	{
		if (v.type != jbvString ||
			!parse_uuid(v.val.string.val, v.val.string.len, &ev->id))
			ereport(ERROR,
					(errcode(ERRCODE_ES_INVALID_EVENT_ID),
					 errmsg("\"id\" of event %d of the batch is not a valid uuid",
							i + 1),
					 errhint("Event ids are uuids such as \"0b8e0f55-5a3c-4d8e-9a47-3f1c2b1d0e6a\", or omit \"id\" to have one generated.")));
		ev->has_id = true;
	}
}

static Datum
build_array(Datum *elems, bool *nulls, int n, Oid elemtype)
{
	int16 typlen;
	bool  typbyval;
	char  typalign;
	int	  dims[1] = {n};
	int	  lbs[1] = {1};

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  elemtype, typlen, typbyval,
											  typalign));
}

/* qsort_arg comparator: event indexes by event id */
static int
event_id_cmp(const void *a, const void *b, void *arg)
{
	const EsEvent *events = arg;

	return memcmp(&events[*(const int *) a].id, &events[*(const int *) b].id,
				  UUID_LEN);
}

/*
 * The aggregate exists with stored_type: it must be the type the caller
 * named.
 */
static void
check_aggregate_type(const EsAppendRequest *req, text *stored_type)
{
	if (!text_equal(stored_type, req->aggregate_type))
		ereport(ERROR, (errcode(ERRCODE_ES_AGGREGATE_TYPE_MISMATCH),
						errmsg("aggregate %s is of type \"%s\", not \"%s\"",
							   uuid_to_cstring(req->aggregate_id),
							   text_to_cstring(stored_type),
							   text_to_cstring(req->aggregate_type))));
}

/*
 * Check the arguments other than the batch and fill *req with them; returns
 * the batch.
 */
static Jsonb *
read_arguments(FunctionCallInfo fcinfo, EsAppendRequest *req)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("aggregate_id must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("aggregate_type must not be null")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_ES_INVALID_BATCH),
				 errmsg("events must be a JSON array of events, not null")));
	req->any_version = PG_ARGISNULL(2);
	req->expected = req->any_version ? -1 : PG_GETARG_INT64(2);
	req->aggregate_id = PG_GETARG_UUID_P(0);
	req->aggregate_type = PG_GETARG_TEXT_PP(1);

	if (VARSIZE_ANY_EXHDR(req->aggregate_type) == 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("aggregate_type must not be empty")));
	if (!req->any_version && req->expected < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expected_version must be NULL (any), 0 (new aggregate) or a positive version, not %lld",
						(long long) req->expected)));
	return PG_GETARG_JSONB_P(3);
}

/*
 * Validate the whole batch before touching any table, and fill req->events
 * and req->n.
 */
static void
validate_batch(Jsonb *batch, EsAppendRequest *req)
{
	StringInfoData scratch;
	Datum		   empty_object; /* '{}', for events without data/metadata */
	int			   n;

	if (!JB_ROOT_IS_ARRAY(batch) || JB_ROOT_IS_SCALAR(batch))
		ereport(ERROR,
				(errcode(ERRCODE_ES_INVALID_BATCH),
				 errmsg("events must be a JSON array of events"),
				 errhint("Pass [{\"type\": \"...\", \"data\": {...}}, ...], even for one event.")));
	n = JB_ROOT_COUNT(batch);
	if (n == 0)
		ereport(ERROR, (errcode(ERRCODE_ES_INVALID_BATCH),
						errmsg("the event batch is empty"),
						errhint("Append at least one event.")));

	req->events = palloc(sizeof(EsEvent) * n);
	req->n = n;
	initStringInfo(&scratch);
	empty_object = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	for (int i = 0; i < n; i++)
	{
		JsonbValue *elem = getIthJsonbValueFromContainer(&batch->root, i);

		parse_event(elem, i, &req->events[i], &scratch, empty_object);
	}
	pfree(scratch.data);
}

/* The same id twice in one batch can never be stored (sorted: O(n log n)). */
static void
check_duplicate_ids(const EsAppendRequest *req, int nids)
{
	EsEvent *events = req->events;
	int		*order = palloc(sizeof(int) * nids);
	int		 k = 0;

	for (int i = 0; i < req->n; i++)
		if (events[i].has_id)
			order[k++] = i;
	qsort_arg(order, nids, sizeof(int), event_id_cmp, events);
	for (int i = 1; i < nids; i++)
		if (memcmp(&events[order[i - 1]].id, &events[order[i]].id, UUID_LEN) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_ES_DUPLICATE_EVENT_ID),
					 errmsg("event id %s appears twice in the batch (events %d and %d)",
							uuid_to_cstring(&events[order[i]].id),
							Min(order[i - 1], order[i]) + 1,
							Max(order[i - 1], order[i]) + 1)));
	pfree(order);
}

/*
 * If some events carry ids, decide whether this call is the retry of an
 * append that already succeeded.  Returns the version of the batch's last
 * event if so, 0 if none of the ids is stored, and raises VE007 for any
 * other overlap.
 */
static int64
check_retry(const EsAppendRequest *req)
{
	EsEvent *events = req->events;
	int		 n = req->n;
	Datum	*ids = palloc(sizeof(Datum) * n);
	int		 nids = 0;
	Datum	 arg;
	int		 ret;
	int64	 first = 0;
	bool	 all_ids = true;
	bool	 isnull;

	for (int i = 0; i < n; i++)
	{
		if (events[i].has_id)
			ids[nids++] = UUIDPGetDatum(&events[i].id);
		else
			all_ids = false;
	}
	if (nids == 0)
		return 0;
	check_duplicate_ids(req, nids);

	arg = build_array(ids, NULL, nids, UUIDOID);
	ret = SPI_execute_plan(plan_find_ids, &arg, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "looking up event ids failed: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return 0;

	/*
	 * Some ids are stored.  It is a retry only if every event has an id and
	 * event i is stored for this aggregate at version first + i.
	 */
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple  tup = SPI_tuptable->vals[r];
		TupleDesc  desc = SPI_tuptable->tupdesc;
		pg_uuid_t *id = DatumGetUUIDP(SPI_getbinval(tup, desc, 1, &isnull));
		pg_uuid_t *agg = DatumGetUUIDP(SPI_getbinval(tup, desc, 2, &isnull));
		int64 version = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		int	  pos = -1;

		for (int i = 0; i < n; i++)
			if (events[i].has_id && memcmp(&events[i].id, id, UUID_LEN) == 0)
			{
				pos = i;
				break;
			}
		Assert(pos >= 0);

		if (memcmp(agg, req->aggregate_id, UUID_LEN) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_ES_DUPLICATE_EVENT_ID),
					 errmsg("event id %s is already stored for another aggregate",
							uuid_to_cstring(id)),
					 errdetail("Event %d of the batch has the id of version %lld of aggregate %s.",
							   pos + 1, (long long) version,
							   uuid_to_cstring(agg))));
		if (r == 0)
			first = version - pos;
		if (!all_ids || SPI_processed != (uint64) n || version != first + pos)
			ereport(ERROR,
					(errcode(ERRCODE_ES_DUPLICATE_EVENT_ID),
					 errmsg("event id %s is already stored for aggregate %s at version %lld",
							uuid_to_cstring(id),
							uuid_to_cstring(req->aggregate_id),
							(long long) version),
					 errdetail("%llu of the %d events of the batch are already stored, not as the same batch.",
							   (unsigned long long) SPI_processed, n),
					 errhint("A retry must send the same events, with the same ids, in the same order.")));
	}

	/* The whole batch is stored, in order.  Is it where this call wanted it? */
	if (!req->any_version && req->expected != first - 1)
		ereport(ERROR,
				(errcode(ERRCODE_ES_WRONG_EXPECTED_VERSION),
				 errmsg("wrong expected version for aggregate %s: expected %lld, but these events are stored at versions %lld to %lld",
						uuid_to_cstring(req->aggregate_id),
						(long long) req->expected, (long long) first,
						(long long) (first + n - 1))));
	check_aggregate_type(req,
						 DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 4,
													  &isnull)));
	return first + n - 1;
}

/*
 * Advance the aggregate's version by the batch, if it exists with the
 * caller's type and expected version.  Returns the version before the
 * batch, or -1 if no row matched.  The row lock the UPDATE takes is held to
 * the end of the transaction: it serialises the writers of one aggregate.
 */
static int64
advance_aggregate(const EsAppendRequest *req)
{
	Datum args[4];
	char  nulls[4] = {' ', ' ', ' ', req->any_version ? 'n' : ' '};
	bool  isnull;
	int	  ret;

	args[0] = UUIDPGetDatum(req->aggregate_id);
	args[1] = Int64GetDatum((int64) req->n);
	args[2] = PointerGetDatum(req->aggregate_type);
	args[3] = Int64GetDatum(req->expected);
	ret = SPI_execute_plan(plan_advance, args, nulls, false, 0);
	if (ret != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "updating the aggregate failed: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed != 1)
		return -1;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull)) -
		   req->n;
}

/*
 * The UPDATE matched no row: find out why.  Returns true if the aggregate
 * exists and matches after all (committed by a concurrent writer after the
 * UPDATE took its snapshot), false if there is no such aggregate; raises the
 * type-mismatch or wrong-version error otherwise.
 */
static bool
explain_no_match(const EsAppendRequest *req)
{
	Datum arg = UUIDPGetDatum(req->aggregate_id);
	bool  isnull;
	int64 actual;
	int	  ret;

	ret = SPI_execute_plan(plan_get_aggregate, &arg, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the aggregate failed: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed != 1)
		return false;

	check_aggregate_type(req,
						 DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1,
													  &isnull)));
	actual = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 2, &isnull));

	/*
	 * The row was committed by a concurrent writer after our UPDATE took its
	 * snapshot (READ COMMITTED): it is a match we could not see yet, so the
	 * caller tries the UPDATE again with a new snapshot.
	 */
	if (req->any_version || actual == req->expected)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_ES_WRONG_EXPECTED_VERSION),
			 errmsg("wrong expected version for aggregate %s: expected %lld, actual %lld",
					uuid_to_cstring(req->aggregate_id),
					(long long) req->expected, (long long) actual),
			 errhint("Load the events after version %lld, decide again, and retry with expected_version %lld.",
					 (long long) req->expected, (long long) actual)));
	pg_unreachable();
}

/*
 * There is no such aggregate: create it at the batch's last version.
 * Returns false if a concurrent writer created it first (ON CONFLICT DO
 * NOTHING waits for that writer's commit).
 */
static bool
create_aggregate(const EsAppendRequest *req)
{
	Datum args[3];
	int	  ret;

	if (!req->any_version && req->expected != 0)
		ereport(ERROR,
				(errcode(ERRCODE_ES_WRONG_EXPECTED_VERSION),
				 errmsg("wrong expected version for aggregate %s: expected %lld, actual 0",
						uuid_to_cstring(req->aggregate_id),
						(long long) req->expected),
				 errdetail("The aggregate does not exist.")));
	args[0] = UUIDPGetDatum(req->aggregate_id);
	args[1] = PointerGetDatum(req->aggregate_type);
	args[2] = Int64GetDatum((int64) req->n);
	ret = SPI_execute_plan(plan_create_aggregate, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "creating the aggregate failed: %s",
			 SPI_result_code_string(ret));
	return SPI_processed == 1;
}

/*
 * Advance the aggregate, or find out why not, or create it.  Returns the
 * version before the batch.  The loop runs again only when a concurrent
 * writer created or advanced the aggregate between our statements; the
 * next UPDATE then sees it.
 */
static int64
lock_aggregate(const EsAppendRequest *req)
{
	for (int attempt = 0;; attempt++)
	{
		int64 first;

		if (attempt >= 10)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not append to aggregate %s: it kept changing concurrently",
							uuid_to_cstring(req->aggregate_id))));
		first = advance_aggregate(req);
		if (first >= 0)
			return first;
		if (explain_no_match(req))
			continue;
		if (create_aggregate(req))
			return 0;
	}
}

/* Insert the events at versions first + 1 .. first + n, in one statement. */
static void
insert_events(const EsAppendRequest *req, int64 first)
{
	EsEvent *events = req->events;
	int		 n = req->n;
	Datum	 args[7];
	Datum	*ids = palloc(sizeof(Datum) * n);
	bool	*idnulls = palloc(sizeof(bool) * n);
	Datum	*types = palloc(sizeof(Datum) * n);
	Datum	*datas = palloc(sizeof(Datum) * n);
	Datum	*metas = palloc(sizeof(Datum) * n);
	int		 ret;

	for (int i = 0; i < n; i++)
	{
		ids[i] = events[i].has_id ? UUIDPGetDatum(&events[i].id) : (Datum) 0;
		idnulls[i] = !events[i].has_id;
		types[i] = events[i].type;
		datas[i] = events[i].data;
		metas[i] = events[i].metadata;
	}
	args[0] = UUIDPGetDatum(req->aggregate_id);
	args[1] = Int64GetDatum(first);
	args[2] = PointerGetDatum(req->aggregate_type);
	args[3] = build_array(ids, idnulls, n, UUIDOID);
	args[4] = build_array(types, NULL, n, TEXTOID);
	args[5] = build_array(datas, NULL, n, JSONBOID);
	args[6] = build_array(metas, NULL, n, JSONBOID);
	ret = SPI_execute_plan(plan_insert_events, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting the events failed: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed != (uint64) n)
		elog(ERROR, "inserted %llu events instead of %d",
			 (unsigned long long) SPI_processed, n);
}

Datum
eventstore_append(PG_FUNCTION_ARGS)
{
	EsAppendRequest req;
	int64			retried;
	int64			first;
	int				ret;

	validate_batch(read_arguments(fcinfo, &req), &req);

	if ((ret = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(ret));
	prepare_plans();

	retried = check_retry(&req);
	if (retried > 0)
	{
		SPI_finish();
		PG_RETURN_INT64(retried);
	}
	first = lock_aggregate(&req);
	insert_events(&req, first);

	SPI_finish();
	PG_RETURN_INT64(first + req.n);
}
