#!/usr/bin/env python3
"""relay_latency_reader.py - end-to-end latency of the relay: reads a Kinesis
stream (an emulator on loopback) from LATEST as fast as it can and, for each
record, takes now - source.commit_time of the envelope.  Stops after
--seconds, prints "n p50_ms p90_ms p99_ms max_ms".

  relay_latency_reader.py --endpoint URL --stream NAME --seconds S [--skip S]
"""
import argparse
import base64
import datetime
import json
import time

import boto3
import botocore.config

p = argparse.ArgumentParser()
p.add_argument("--endpoint", required=True)
p.add_argument("--stream", required=True)
p.add_argument("--seconds", type=float, required=True)
p.add_argument("--skip", type=float, default=2.0, help="warm-up seconds not counted")
p.add_argument("--ready")
a = p.parse_args()

k = boto3.client("kinesis", endpoint_url=a.endpoint, region_name="us-east-1",
                 aws_access_key_id="x", aws_secret_access_key="x",
                 config=botocore.config.Config(retries={"max_attempts": 1}))
shards = [s["ShardId"] for s in k.list_shards(StreamName=a.stream)["Shards"]]
its = {s: k.get_shard_iterator(StreamName=a.stream, ShardId=s,
                               ShardIteratorType="LATEST")["ShardIterator"] for s in shards}
if a.ready:
    open(a.ready, "w").write("ready\n")
lat = []
t0 = time.time()
while time.time() - t0 < a.seconds:
    got = 0
    for s in shards:
        r = k.get_records(ShardIterator=its[s], Limit=10000)
        its[s] = r["NextShardIterator"]
        now = time.time()
        for rec in r["Records"]:
            got += 1
            e = json.loads(rec["Data"])
            ct = e["source"]["commit_time"]
            t = datetime.datetime.strptime(ct, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            if now - t0 >= a.skip:
                lat.append((now - t) * 1000.0)
    if not got:
        time.sleep(0.002)
lat.sort()
if not lat:
    print("0 nan nan nan nan")
else:
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
    print("%d %.1f %.1f %.1f %.1f" % (len(lat), q(0.5), q(0.9), q(0.99), lat[-1]))
