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

--strict: also require that first deliveries are in version order (the
default rule, --max-records-per-key 1: nothing is ever stored ahead).
Prints "expected=N applied=N missing=N ahead=N dups=N records=N" and exits 1
if an expected event was not applied (or, with --strict, anything was stored
ahead), or an unexpected one was stored.
"""
import sys

log, exp_path = sys.argv[1], sys.argv[2]
strict = "--strict" in sys.argv[3:]
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
sys.exit(1 if missing or extra or applied != n_exp or (strict and ahead) else 0)
