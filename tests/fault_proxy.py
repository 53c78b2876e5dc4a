#!/usr/bin/env python3
"""fault_proxy.py - a small fault-injecting HTTP proxy in front of a Kinesis
emulator, for the relay's fault tests (no emulator produces these faults).

  fault_proxy.py --listen PORT --upstream http://127.0.0.1:UPORT
                 [--fail-pct N] [--throttle-pct N] [--drop-pct N] [--seed S]
                 [--delay-ms N] [--stats FILE]

For each PutRecords request (X-Amz-Target ...PutRecords):
  --throttle-pct  answer the whole request with HTTP 400
                  ProvisionedThroughputExceededException, forwarding nothing
  --fail-pct      fail that share of the records: they are removed from the
                  request that is forwarded, and the upstream answer is merged
                  with ErrorCode ProvisionedThroughputExceededException entries
                  at their positions (FailedRecordCount set), as Kinesis does
  --drop-pct      forward the request, then close the connection without an
                  answer (the records were stored: the client must retry and
                  may duplicate)
  --delay-ms      hold every PutRecords answer this long (so that a client
                  killed at random is often killed with a request in flight)
Every other request is passed through unchanged.  Because requests are
rewritten, the upstream must not check signatures (use kinesalite).
Listens on 127.0.0.1 only.  Counters are written as JSON to --stats.
"""
import argparse
import http.client
import http.server
import json
import random
import socketserver
import sys
import threading
import time
import urllib.parse

ARGS = None
LOCK = threading.Lock()
STATS = {"requests": 0, "put_records": 0, "records": 0, "failed_records": 0,
         "throttled": 0, "dropped": 0}
RNG = random.Random()


def save_stats():
    if ARGS.stats:
        with open(ARGS.stats + ".tmp", "w") as f:
            json.dump(STATS, f)
        import os
        os.replace(ARGS.stats + ".tmp", ARGS.stats)


def chance(pct):
    with LOCK:
        return RNG.random() * 100 < pct


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def forward(self, body, headers):
        u = urllib.parse.urlsplit(ARGS.upstream)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        hdrs = {k: v for k, v in headers.items()
                if k.lower() not in ("content-length", "connection", "host", "expect")}
        hdrs["Host"] = u.netloc
        hdrs["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        ctype = r.getheader("Content-Type", "application/x-amz-json-1.1")
        conn.close()
        return r.status, ctype, data

    def reply(self, status, ctype, data):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "fault-proxy")
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        target = self.headers.get("X-Amz-Target", "")
        with LOCK:
            STATS["requests"] += 1
        if not target.endswith(".PutRecords"):
            self.reply(*self.forward(body, self.headers))
            return
        req = json.loads(body)
        recs = req.get("Records", [])
        with LOCK:
            STATS["put_records"] += 1
            STATS["records"] += len(recs)
        if chance(ARGS.throttle_pct):
            with LOCK:
                STATS["throttled"] += 1
                save_stats()
            self.reply(400, "application/x-amz-json-1.1", json.dumps({
                "__type": "ProvisionedThroughputExceededException",
                "message": "Rate exceeded for stream (fault proxy)"}).encode())
            return
        failed = [chance(ARGS.fail_pct) for _ in recs]
        keep = [r for r, f in zip(recs, failed) if not f]
        if keep:
            req["Records"] = keep
            status, ctype, data = self.forward(json.dumps(req).encode(), self.headers)
            if status != 200:
                self.reply(status, ctype, data)
                return
            up = json.loads(data)["Records"]
        else:
            up = []
        out, it = [], iter(up)
        for f in failed:
            if f:
                out.append({"ErrorCode": "ProvisionedThroughputExceededException",
                            "ErrorMessage": "Rate exceeded for shard shardId-000000000000 (fault proxy)"})
            else:
                out.append(next(it))
        nfail = sum(failed)
        if ARGS.delay_ms:
            time.sleep(ARGS.delay_ms / 1000.0)
        with LOCK:
            STATS["failed_records"] += nfail
        if keep and chance(ARGS.drop_pct):
            with LOCK:
                STATS["dropped"] += 1
                save_stats()
            # stored upstream, but the client never hears about it
            self.close_connection = True
            self.connection.shutdown(2)
            return
        with LOCK:
            save_stats()
        self.reply(200, "application/x-amz-json-1.1",
                   json.dumps({"FailedRecordCount": nfail, "Records": out}).encode())

    do_POST = handle_any
    do_GET = handle_any
    do_PUT = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--fail-pct", type=float, default=0)
    p.add_argument("--throttle-pct", type=float, default=0)
    p.add_argument("--drop-pct", type=float, default=0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--delay-ms", type=float, default=0)
    p.add_argument("--stats")
    ARGS = p.parse_args()
    if ARGS.seed is not None:
        RNG.seed(ARGS.seed)
    srv = Server(("127.0.0.1", ARGS.listen), Handler)
    print("fault proxy on 127.0.0.1:%d -> %s" % (ARGS.listen, ARGS.upstream), file=sys.stderr)
    srv.serve_forever()


if __name__ == "__main__":
    main()
