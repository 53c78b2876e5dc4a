#!/usr/bin/env node
// kinesis_standin_load.js - how fast is bench/kinesis_standin.js?  Sends
// PutRecords of 500 envelope-sized records (~600 bytes, like the relay's)
// from CONC connections for SECONDS and prints "records/s requests/s".
//
//   kinesis_standin_load.js PORT [CONC=32] [SECONDS=5]
'use strict';
const http = require('http');
const port = Number(process.argv[2]);
const conc = Number(process.argv[3] || 32);
const secs = Number(process.argv[4] || 5);
const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
const recs = [];
for (let i = 0; i < 500; i++) {
    const env = JSON.stringify({
        aggregate_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, aggregate_type: 'Cart',
        version: i + 1, event_id: 'x', type: 'ItemAdded', data: { note: 'y'.repeat(300) },
        metadata: {}, recorded_at: '2026-11-23T09:14:03.123456Z',
        source: { database: 'app', lsn: '0/1', xid: 1, commit_time: '2026-11-23T09:14:03.124001Z' },
    });
    recs.push({ Data: Buffer.from(env).toString('base64'), PartitionKey: `k${i}` });
}
const body = JSON.stringify({ StreamName: 's', Records: recs });
let records = 0, requests = 0;
const t0 = Date.now();
function one() {
    if (Date.now() - t0 > secs * 1000) return;
    const req = http.request({
        port, host: '127.0.0.1', method: 'POST', path: '/', agent,
        headers: { 'X-Amz-Target': 'Kinesis_20131202.PutRecords', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
        const c = [];
        res.on('data', (d) => c.push(d));
        res.on('end', () => {
            const a = JSON.parse(Buffer.concat(c));
            if (a.Records) records += a.Records.length - a.FailedRecordCount;
            requests++;
            one();
        });
    });
    req.end(body);
}
for (let i = 0; i < conc; i++) one();
setTimeout(() => {
    const s = (Date.now() - t0) / 1000;
    console.log(`${Math.round(records / s)} ${Math.round(requests / s)}`);
    process.exit(0);
}, secs * 1000 + 200);
