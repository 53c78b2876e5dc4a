#!/usr/bin/env python3
"""envelope_records.py - from tests/golden/envelope_appends.json (a list of
appends: aggregate id + events), write the two equivalent inputs of the
envelope golden test (tests/t_envelope_golden.sh):

  appends.sql   one eventstore.append() per append, aggregate type "cart",
                each event with the id the DynamoDB path derives for it,
                after setting the default of eventstore.events.recorded_at
  records.json  the DynamoDB stream records ({"Records": [...]}) a table with
                one item per aggregate (key Uuid, list Events of {Name, Data,
                Metadata}) gives for the same appends: INSERT for the first,
                MODIFY with OldImage after

Equivalent means: numbers keep their text (N), an object that is exactly
{"$binary": ...} is a B, map keys come in jsonb's order (shorter keys
first, then bytewise: what the extension stores and so emits), and
ApproximateCreationDateTime (milliseconds) is the recorded_at the test gives
the events table.
"""
import datetime
import json
import sys
import uuid

# docs/dynamodb.md: event_id = uuid5(this namespace, "<aggregate_id>:<version>")
NS = uuid.UUID("9355b276-3080-5ebf-a804-48b93b6dcf1e")
RECORDED_AT = datetime.datetime(2026, 11, 23, 9, 14, 3, 123000, tzinfo=datetime.timezone.utc)
RECORDED_AT_MS = int(RECORDED_AT.timestamp()) * 1000 + RECORDED_AT.microsecond // 1000
TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/carts/stream/2026-11-23T08:00:00.000"


class Num(str):
    """A JSON number, kept as its text."""


def jsonb_order(key):
    b = key.encode("utf-8")
    return (len(b), b)


def plain(v):
    """v as JSON text, numbers as they were written."""
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + plain(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(plain(x) for x in v) + "]"
    return json.dumps(v)


def typed(v):
    """v as DynamoDB typed JSON."""
    if isinstance(v, Num):
        return {"N": str(v)}
    if isinstance(v, bool):
        return {"BOOL": v}
    if v is None:
        return {"NULL": True}
    if isinstance(v, str):
        return {"S": v}
    if isinstance(v, list):
        return {"L": [typed(x) for x in v]}
    if list(v) == ["$binary"]:
        return {"B": v["$binary"]}
    return {"M": {k: typed(v[k]) for k in sorted(v, key=jsonb_order)}}


def main(src, outdir):
    with open(src, encoding="utf-8") as f:
        appends = json.load(f, parse_int=Num, parse_float=Num)
    lists = {}
    records = []
    # The events table's default, so that append() stores this recorded_at.
    sql = ["ALTER TABLE eventstore.events ALTER recorded_at SET DEFAULT '%s';"
           % RECORDED_AT.isoformat()]
    seq = 0
    for a in appends:
        agg = a["aggregate_id"]
        old = lists.get(agg, [])
        new = list(old)
        batch = []
        for ev in a["events"]:
            version = len(new) + 1
            ev = dict(ev, id=str(uuid.uuid5(NS, f"{agg}:{version}")))
            batch.append(ev)
            item = {"Name": {"S": ev["type"]}, "Data": typed(ev["data"])}
            if "metadata" in ev:
                item["Metadata"] = typed(ev["metadata"])
            new.append({"M": item})
        lists[agg] = new
        sql.append("SELECT eventstore.append('%s', 'cart', NULL, $golden$%s$golden$::jsonb);"
                   % (agg, plain(batch)))
        seq += 1
        ddb = {"ApproximateCreationDateTime": RECORDED_AT_MS,
               "Keys": {"Uuid": {"S": agg}},
               "NewImage": {"Uuid": {"S": agg}, "Events": {"L": new}}}
        if old:
            ddb["OldImage"] = {"Uuid": {"S": agg}, "Events": {"L": old}}
        ddb.update({"SequenceNumber": "41%020d" % seq, "SizeBytes": 100,
                    "StreamViewType": "NEW_AND_OLD_IMAGES"})
        records.append({"eventID": "%032x" % seq, "eventName": "MODIFY" if old else "INSERT",
                        "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                        "awsRegion": "eu-west-1", "dynamodb": ddb, "eventSourceARN": TABLE_ARN})
    with open(f"{outdir}/appends.sql", "w", encoding="utf-8") as f:
        f.write("\n".join(sql) + "\n")
    with open(f"{outdir}/records.json", "w", encoding="ascii") as f:
        json.dump({"Records": records}, f, ensure_ascii=True, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
