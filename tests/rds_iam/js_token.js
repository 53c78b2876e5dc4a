// tests/rds_iam/js_token.js - the RDS IAM auth token as the AWS SDK for
// JavaScript v3 (@aws-sdk/rds-signer, from tests/node_modules) computes it,
// at a fixed clock: the second independent implementation the relay's token
// is checked against (its bytes, parameter order included).
//
//   node js_token.js --vectors FILE   one vector a line, tab-separated:
//                                     epoch host port user region akid secret token|-
//   prints the tokens, one a line
"use strict";
const fs = require("fs");
const path = require("path");
const { Signer } = require(path.join(__dirname, "..", "node_modules", "@aws-sdk", "rds-signer"));

const RealDate = Date;
let fixedMs = 0;
// the signer takes the time from `new Date()`: a Date whose "now" is fixed
class FixedDate extends RealDate {
	constructor(...args) {
		if (args.length === 0) super(fixedMs);
		else super(...args);
	}
	static now() {
		return fixedMs;
	}
}
global.Date = FixedDate;

async function main() {
	if (process.argv.length !== 4 || process.argv[2] !== "--vectors") {
		console.error("usage: node js_token.js --vectors FILE");
		process.exit(2);
	}
	const lines = fs.readFileSync(process.argv[3], "utf8").split("\n").filter((l) => l !== "");
	for (const line of lines) {
		const [e, hostname, port, username, region, accessKeyId, secretAccessKey, tok] = line.split("\t");
		fixedMs = Number(e) * 1000;
		const credentials = { accessKeyId, secretAccessKey };
		if (tok !== "-") credentials.sessionToken = tok;
		const signer = new Signer({ hostname, port: Number(port), username, region, credentials });
		process.stdout.write((await signer.getAuthToken()) + "\n");
	}
}
main().catch((e) => {
	console.error("js_token.js: " + e.message);
	process.exit(1);
});
