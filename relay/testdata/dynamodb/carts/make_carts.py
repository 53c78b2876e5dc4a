#!/usr/bin/env python3
"""make_carts.py - writes the shopping-cart stream records used by the DynamoDB
path's tests (relay/test/test_ddb_record.c, tests/t_ddb_*.sh, bench/ddb_bench.sh).

Hand-made, in the shape DynamoDB Streams delivers them to Lambda (the key order
and fields of the real captures in ../dynamodb-streams-test/): table "carts",
key "Uuid", list attribute "Events" of {Name, Data} maps, NEW_AND_OLD_IMAGES.
Run it again after editing; the JSON files are committed.
"""
import json

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/carts/stream/2026-11-23T08:00:00.000"
A = "0b6c1f2e-5d7a-4c1e-9f3b-2a8d6e4c1b70"
B = "5e2a9c4d-1b3f-4a6e-8d7c-9f0e1a2b3c4d"
SEQ = iter(range(4100000000000000000001, 4100000000000000000999))


def ev(name, data):
    return {"M": {"Name": {"S": name}, "Data": {"M": data}}}


OPENED_A = ev("CartOpened", {"customer": {"S": "c-42"}, "currency": {"S": "EUR"}})
ITEM1 = ev("ItemAdded", {"sku": {"S": "A-1"}, "qty": {"N": "2"}, "price": {"N": "19.99"}})
ITEM2 = ev("ItemAdded", {"sku": {"S": "B-7"}, "qty": {"N": "1"}, "price": {"N": "5"}})
ITEM3 = ev("ItemAdded", {"sku": {"S": "C-3"}, "qty": {"N": "10"}, "price": {"N": "0.10"}})
ITEM4 = ev("ItemRemoved", {"sku": {"S": "A-1"}, "qty": {"N": "1"}})
OPENED_B = ev("CartOpened", {"customer": {"S": "c-7"}, "currency": {"S": "USD"}})

# Every DynamoDB type inside Data, with the awkward values: numbers beyond
# double precision, binary, empty string, non-ASCII text, nested M/L, sets.
ALL_TYPES = ev("EverythingAdded", {
    "s": {"S": "tab\there \"quoted\" caf\u00e9 \U0001F98A"},
    "empty": {"S": ""},
    "pi": {"N": "3.14159265358979323846264338327950288"},
    "big": {"N": "123456789012345678901234567890"},
    "tiny": {"N": "-1E-130"},
    "int": {"N": "42"},
    "bin": {"B": "AAEqQQ=="},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
    "nothing": {"NULL": True},
    "map": {"M": {"inner": {"M": {"n": {"N": "0.5"}, "l": {"L": []}}}}},
    "list": {"L": [{"S": "a"}, {"N": "1"}, {"BOOL": False}, {"NULL": True}, {"M": {"k": {"S": "v"}}}, {"L": [{"N": "2"}]}]},
    "ss": {"SS": ["red", "green"]},
    "ns": {"NS": ["1", "2.5", "99999999999999999999.000001"]},
    "bs": {"BS": ["QSoBAA==", "AAEqQQ=="]},
})


def item(uuid, events, **extra):
    d = {"Uuid": {"S": uuid}, "Events": {"L": events}}
    for k, v in extra.items():
        d[k] = v
    return d


def record(name, uuid, new=None, old=None, view="NEW_AND_OLD_IMAGES", t=1795424400):
    ddb = {"ApproximateCreationDateTime": t, "Keys": {"Uuid": {"S": uuid}}}
    if new is not None:
        ddb["NewImage"] = new
    if old is not None:
        ddb["OldImage"] = old
    ddb["SequenceNumber"] = str(next(SEQ))
    ddb["SizeBytes"] = 100
    if view is not None:
        ddb["StreamViewType"] = view
    return {"eventID": "e%031d" % int(ddb["SequenceNumber"][-6:]),
            "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-1", "dynamodb": ddb, "eventSourceARN": ARN}


def write(fname, records):
    with open(fname, "w") as f:
        json.dump({"Records": records}, f, indent=2, ensure_ascii=False)
        f.write("\n")


files = {
    "cart-opened.json": [record("INSERT", A, new=item(A, [OPENED_A]))],
    "item-added.json": [record("MODIFY", A, new=item(A, [OPENED_A, ITEM1]), old=item(A, [OPENED_A]), t=1795424401)],
    "items-added-several.json": [record("MODIFY", A, new=item(A, [OPENED_A, ITEM1, ITEM2, ITEM3, ITEM4]),
                                        old=item(A, [OPENED_A, ITEM1]), t=1795424402)],
    "cart-removed.json": [record("REMOVE", A, old=item(A, [OPENED_A, ITEM1]), t=1795424403)],
    "modify-without-oldimage.json": [record("MODIFY", A, new=item(A, [OPENED_A, ITEM1]), view=None, t=1795424404)],
    "new-image-only.json": [record("MODIFY", A, new=item(A, [OPENED_A, ITEM1]), view="NEW_IMAGE", t=1795424405)],
    "all-types.json": [record("INSERT", B, new=item(B, [ALL_TYPES]), t=1795424406)],
    "shrunk-list.json": [record("MODIFY", A, new=item(A, [OPENED_A]), old=item(A, [OPENED_A, ITEM1]), t=1795424407)],
    "middle-changed.json": [record("MODIFY", A, new=item(A, [OPENED_A, ITEM2, ITEM3]), old=item(A, [OPENED_A, ITEM1]), t=1795424408)],
    "no-growth.json": [record("MODIFY", A, new=item(A, [OPENED_A, ITEM1], Status={"S": "checked-out"}),
                              old=item(A, [OPENED_A, ITEM1]), t=1795424409)],
}
for fname, recs in files.items():
    write(fname, recs)

# A Lambda batch mixing everything that is not an error, in stream order:
# A opened, B opened, A +1, REMOVE of another cart, A +3, B attribute change.
C = "9a8b7c6d-0000-4000-8000-00000000000c"
write("batch.json", [
    record("INSERT", A, new=item(A, [OPENED_A]), t=1795424500),
    record("INSERT", B, new=item(B, [OPENED_B]), t=1795424501),
    record("MODIFY", A, new=item(A, [OPENED_A, ITEM1]), old=item(A, [OPENED_A]), t=1795424502),
    record("REMOVE", C, old=item(C, [OPENED_B]), t=1795424503),
    record("MODIFY", A, new=item(A, [OPENED_A, ITEM1, ITEM2, ITEM3]), old=item(A, [OPENED_A, ITEM1]), t=1795424504),
    record("MODIFY", B, new=item(B, [OPENED_B], Status={"S": "abandoned"}), old=item(B, [OPENED_B]), t=1795424505),
])

# The real capture ../dynamodb-streams-test/new-and-old-images-modify.json with
# an Events list added to both images (no public sample has one; its SOURCE.md
# suggests exactly this).  Key is composite (pk, sk): use --id-attribute pk.
with open("../dynamodb-streams-test/new-and-old-images-modify.json") as f:
    real = json.load(f)
d = real["Records"][0]["dynamodb"]
d["OldImage"]["Events"] = {"L": [ev("Opened", {"by": {"S": "a"}})]}
d["NewImage"]["Events"] = {"L": [ev("Opened", {"by": {"S": "a"}}), ev("Renamed", {"data": {"S": "hello"}})]}
with open("real-capture-modify-with-events.json", "w") as f:
    json.dump(real, f, indent=4, ensure_ascii=False)
    f.write("\n")
