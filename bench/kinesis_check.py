#!/usr/bin/env python3
"""kinesis_check.py - proves completeness and per-aggregate order from what
bench/kinesis_standin.js stored (its log: "aggregate_id version shard seq
t_ms", in storage order) against the events expected (lines "aggregate_id
version", e.g. from eventstore.events).

The consumer rule of relay/README.md ("Ordering") is applied per aggregate:
keep the last applied version L (at first: one below the first version
expected); a record with version L+1 is
applied, any other is skipped (<= L: a duplicate; > L+1: stored ahead of an
earlier event that failed, which the relay sends again followed by this one).

  kinesis_check.py LOG EXPECTED [--strict]
      [--latency-of EVENTS [--committed-after MS] [--committed-before MS]]

--strict: also require that first deliveries are in version order (the
default rule, --max-records-per-key 1: nothing is ever stored ahead).
Prints "expected=N applied=N missing=N ahead=N dups=N records=N" and exits 1
if an expected event was not applied (or, with --strict, anything was stored
ahead), or an unexpected one was stored.

--latency-of EVENTS (lines "aggregate_id version", a subset of EXPECTED; the
log written with --commit-latency 1): also prints "latency n=N p50=MS p90=MS
p99=MS max=MS" of those events' first deliveries, only of the ones committed
(t_ms - latency) in the window the --committed-* epoch milliseconds give.
"""
import sys

log, exp_path = sys.argv[1], sys.argv[2]
opts = sys.argv[3:]
strict = "--strict" in opts


def opt(name, default=None):
    return opts[opts.index(name) + 1] if name in opts else default


timed = set()
if opt("--latency-of"):
    timed = {tuple(line.split()[:2]) for line in open(opt("--latency-of")) if len(line.split()) >= 2}
after = float(opt("--committed-after", "-inf"))
before = float(opt("--committed-before", "inf"))
lat = []
expected = {}
n_exp = 0
for line in open(exp_path):
    p = line.split()
    if len(p) < 2:
        continue
    expected.setdefault(p[0], set()).add(int(p[1]))
    n_exp += 1
last = {}
applied = ahead = dups = records = extra = 0
for line in open(log):
    p = line.split()
    if len(p) < 2:
        continue
    records += 1
    a, v = p[0], int(p[1])
    if timed and (p[0], p[1]) in timed and len(p) > 6 and p[6] != "nan":
        timed.discard((p[0], p[1]))  # the first delivery only
        if after <= int(p[4]) - int(p[6]) < before:
            lat.append(int(p[6]))
    if v not in expected.get(a, ()):
        extra += 1
        continue
    L = last.get(a, min(expected[a]) - 1)
    if v == L + 1:
        last[a] = v
        applied += 1
    elif v <= L:
        dups += 1
    else:
        ahead += 1
missing = 0
for a, vs in expected.items():
    # versions min..max must all have been applied, in order
    lo, hi = min(vs), max(vs)
    done = last.get(a, lo - 1)
    if done != hi or len(vs) != hi - lo + 1:
        missing += max(hi - done, 1)
print("expected=%d applied=%d missing=%d ahead=%d dups=%d extra=%d records=%d"
      % (n_exp, applied, missing, ahead, dups, extra, records))
if opt("--latency-of"):
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] if lat else float("nan")
    print("latency n=%d p50=%s p90=%s p99=%s max=%s"
          % (len(lat), q(0.5), q(0.9), q(0.99), lat[-1] if lat else "nan"))
sys.exit(1 if missing or extra or applied != n_exp or (strict and ahead) else 0)
