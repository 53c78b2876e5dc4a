#!/usr/bin/env node
// kinesis_standin.js - a Kinesis Data Streams stand-in for benchmarks and
// tests at real-AWS round trips: answers PutRecords (per-record
// SequenceNumber and ShardId, FailedRecordCount) after a configurable delay,
// with optional injected per-record failures and whole-request throttling,
// and logs every record it accepted, in the order it stored them, so that a
// checker (bench/kinesis_check.py) can prove completeness and per-aggregate
// order.  DescribeStreamSummary answers too (the relay's startup check).
// Signatures are not checked.  One process, no I/O per record besides the
// buffered log: it must stay far faster than the relay (bench/kinesis_bench.sh
// measures it).
//
//   kinesis_standin.js --port P [--host 127.0.0.1] [--shards 4] [--delay-ms 25]
//       [--fail-pct 0] [--throttle-pct 0] [--seed 1] [--log FILE] [--ready FILE]
//       [--commit-latency 1]
//
// Log lines (one per accepted record): "aggregate_id version shard seq t_ms
// request", with aggregate_id and version read from the envelope
// (docs/envelope.md), t_ms the wall-clock ms when it was stored and request
// the number of the PutRecords that carried it; with --commit-latency 1 a
// seventh field: ms from the event's source.commit_time to its storage here
// (the whole envelope is then decoded).  SIGTERM flushes the log, writes
// the counters as JSON to FILE.stats and exits.
'use strict';
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');

const args = {
    port: 0, host: '127.0.0.1', shards: 4, 'delay-ms': 25, 'fail-pct': 0,
    'throttle-pct': 0, seed: 1, log: '', ready: '', 'commit-latency': 0,
};
for (let i = 2; i < process.argv.length; i += 2) {
    const k = process.argv[i].replace(/^--/, '');
    if (!(k in args) || i + 1 >= process.argv.length) {
        process.stderr.write(`kinesis_standin.js: unknown or incomplete option ${process.argv[i]}\n`);
        process.exit(2);
    }
    args[k] = typeof args[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}

// xorshift32: reproducible failures for a given --seed
let rng = (args.seed >>> 0) || 1;
function chance(pct) {
    if (pct <= 0) return false;
    rng ^= rng << 13; rng >>>= 0;
    rng ^= rng >>> 17;
    rng ^= rng << 5; rng >>>= 0;
    return (rng % 1000000) < pct * 10000;
}

const seq = new Array(args.shards).fill(0);
const stats = { requests: 0, records: 0, failed_records: 0, throttled: 0, bytes: 0 };
let logFd = args.log ? fs.openSync(args.log, 'w') : -1;
let logBuf = [];
let logLen = 0;
function logFlush() {
    if (logFd >= 0 && logBuf.length) {
        fs.writeSync(logFd, logBuf.join(''));
        logBuf = [];
        logLen = 0;
    }
}
setInterval(logFlush, 200).unref();

const shardCache = new Map();
function shardOf(key) {
    // Kinesis: MD5 of the partition key as a 128-bit number over the shards'
    // equal hash ranges; the first 4 bytes give the same split for <= 2^32 shards
    let s = shardCache.get(key);
    if (s === undefined) {
        const h = crypto.createHash('md5').update(key).digest();
        s = Math.floor((h.readUInt32BE(0) / 4294967296) * args.shards);
        if (shardCache.size > 1000000) shardCache.clear();
        shardCache.set(key, s);
    }
    return s;
}

const reVersion = /"version":(\d+)/;
const reAgg = /"aggregate_id":"([^"]*)"/;
const reCommit = /"commit_time":"([^"]*)"/;

function putRecords(req) {
    const out = new Array(req.Records.length);
    let failed = 0;
    const now = Date.now();
    for (let i = 0; i < req.Records.length; i++) {
        const r = req.Records[i];
        if (chance(args['fail-pct'])) {
            failed++;
            out[i] = {
                ErrorCode: 'ProvisionedThroughputExceededException',
                ErrorMessage: 'Rate exceeded for shard (injected)',
            };
            continue;
        }
        const shard = shardOf(r.PartitionKey);
        const s = ++seq[shard];
        const sn = String(s).padStart(20, '0');
        out[i] = { SequenceNumber: sn, ShardId: 'shardId-' + String(shard).padStart(12, '0') };
        stats.records++;
        stats.bytes += r.Data.length;
        if (logFd >= 0) {
            // aggregate_id and version lead the envelope: decode its head only
            let d = Buffer.from(r.Data.slice(0, 400), 'base64').toString('latin1');
            let a = reAgg.exec(d), v = reVersion.exec(d);
            if (!a || !v) {
                d = Buffer.from(r.Data, 'base64').toString('latin1');
                a = reAgg.exec(d);
                v = reVersion.exec(d);
            }
            let line = `${a ? a[1] : r.PartitionKey} ${v ? v[1] : 0} ${shard} ${s} ${now} ${stats.requests}`;
            if (args['commit-latency']) {
                const full = Buffer.from(r.Data, 'base64').toString('latin1');
                const ct = reCommit.exec(full);
                line += ' ' + (ct ? (now - Date.parse(ct[1])).toFixed(0) : 'nan');
            }
            line += '\n';
            logBuf.push(line);
            logLen += line.length;
            if (logLen > 1 << 20) logFlush();
        }
    }
    stats.failed_records += failed;
    return { FailedRecordCount: failed, Records: out };
}

function reply(res, status, body) {
    const b = JSON.stringify(body);
    res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.1',
        'Content-Length': Buffer.byteLength(b),
        'x-amzn-RequestId': 'standin',
    });
    res.end(b);
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const target = String(req.headers['x-amz-target'] || '');
        let body;
        try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch (e) {
            return reply(res, 400, { __type: 'SerializationException', message: 'bad JSON' });
        }
        if (target.endsWith('.DescribeStreamSummary')) {
            return reply(res, 200, {
                StreamDescriptionSummary: {
                    StreamName: body.StreamName, StreamStatus: 'ACTIVE', OpenShardCount: args.shards,
                },
            });
        }
        if (!target.endsWith('.PutRecords') || !Array.isArray(body.Records)) {
            return reply(res, 400, { __type: 'UnknownOperationException', message: target });
        }
        stats.requests++;
        // decide (and store) at arrival, answer after the delay: a round trip
        let status = 200, answer;
        if (chance(args['throttle-pct'])) {
            stats.throttled++;
            status = 400;
            answer = { __type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded (injected)' };
        } else {
            answer = putRecords(body);
        }
        if (args['delay-ms'] > 0) setTimeout(() => reply(res, status, answer), args['delay-ms']);
        else reply(res, status, answer);
    });
});
server.keepAliveTimeout = 60000;
server.headersTimeout = 65000;
server.listen(args.port, args.host, () => {
    if (args.ready) fs.writeFileSync(args.ready, String(server.address().port) + '\n');
});

function stop() {
    logFlush();
    if (args.log) fs.writeFileSync(args.log + '.stats', JSON.stringify(stats) + '\n');
    process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
