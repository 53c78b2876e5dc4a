#!/usr/bin/env bash
#
# t_relay_unfixable.sh - errors that no retry can fix stop the relay at once
# with exit 2 and ONE line on stderr naming the problem (relay/README.md,
# "Exit status"), instead of being retried for good or buried in log lines:
#
#   * a TLS certificate the relay cannot verify (self-signed, made here with
#     openssl) on the Kinesis endpoint and on the S3 endpoint
#   * a login role without the REPLICATION attribute
#   * an empty --region
#   * an unknown stream, a wrong secret key, a missing bucket (moto_server
#     with IAM signature checks)
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need moto_server aws jq python3 openssl
RELAY=$(es_relay_bin)
es_cluster_start
es_psql -c 'CREATE EXTENSION eventstore'
es_moto_start
M=$ES_MOTO_URL
es_kinesis_create "$M" events 1
aws --endpoint-url "$M" s3api create-bucket --bucket archive >/dev/null
TMP=$ES_TMP
DSN=$(es_relay_dsn)
es_psql -c "SELECT pg_create_logical_replication_slot('unfixable', 'eventstore')" >/dev/null

# run NAME ARGS...: the relay (at most 30 s), its exit status in RC, stderr in $TMP/NAME.err
run() {
	local name=$1
	shift
	RC=0
	timeout 30 "$RELAY" "$@" >/dev/null 2>"$TMP/$name.err" || RC=$?
}
# one_line NAME WHAT PATTERN: exit 2, exactly one line, and it matches PATTERN
one_line() {
	es_eq "$2: exit 2" 2 "$RC"
	es_eq "$2: one line on stderr" 1 "$(wc -l <"$TMP/$1.err")"
	es_check "$2: the line names the problem" grep -qiE "$3" "$TMP/$1.err"
	[[ $RC == 2 && $(wc -l <"$TMP/$1.err") == 1 ]] || cat "$TMP/$1.err" >&2
}

# --- a certificate that cannot be verified ------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1
TLS_PORT=$(es_free_port)
python3 - "$TLS_PORT" "$TMP/cert.pem" "$TMP/key.pem" >"$TMP/tls.log" 2>&1 <<'PY' &
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(500); self.end_headers()
    do_GET = do_PUT = do_HEAD = do_POST
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PY
es_on_exit "kill $!"
es_wait_port "$TLS_PORT" 10 || es_die "TLS server did not start"

run tls-kinesis --dbname "$DSN" --slot unfixable --sink kinesis --stream events \
	--endpoint-url "https://127.0.0.1:$TLS_PORT" --region us-east-1 --dead-letter "$TMP/dl.ndjson"
one_line tls-kinesis "self-signed certificate on the Kinesis endpoint" 'certificate'

run tls-s3 --dbname "$DSN" --slot unfixable --sink s3 --s3-bucket archive \
	--s3-endpoint-url "https://127.0.0.1:$TLS_PORT" --region us-east-1 --dead-letter "$TMP/dl.ndjson"
one_line tls-s3 "self-signed certificate on the S3 endpoint" 'certificate'

# the same endpoint with its certificate trusted is no configuration error:
# the relay keeps retrying the 500s (stopped by timeout, 124)
RC=0
timeout 5 "$RELAY" --dbname "$DSN" --slot unfixable --sink kinesis --stream events \
	--endpoint-url "https://127.0.0.1:$TLS_PORT" --region us-east-1 --ca-bundle "$TMP/cert.pem" \
	--dead-letter "$TMP/dl.ndjson" >/dev/null 2>"$TMP/tls-trusted.err" || RC=$?
es_eq "with --ca-bundle the certificate is verified, and 5xx are retried" 124 "$RC"

# --- a role without REPLICATION --------------------------------------------------------
es_psql -c "CREATE ROLE norepl LOGIN"
run norepl --dbname "host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=norepl" --slot unfixable \
	--sink stdout
one_line norepl "a login role without REPLICATION" 'REPLICATION'

# --- an empty --region -----------------------------------------------------------------
run region --dbname "$DSN" --slot unfixable --sink kinesis --stream events --region ''
one_line region "an empty --region" 'region'
run s3region --dbname "$DSN" --slot unfixable --sink s3 --s3-bucket archive --s3-region '' \
	--region us-east-1
one_line s3region "an empty --s3-region" 'region'

# --- unknown stream, wrong key, missing bucket -----------------------------------------
run nostream --dbname "$DSN" --slot unfixable --sink kinesis --stream no-such-stream \
	--endpoint-url "$M" --region us-east-1 --dead-letter "$TMP/dl.ndjson"
one_line nostream "an unknown stream" 'no-such-stream.*not found|ResourceNotFound'

AWS_SECRET_ACCESS_KEY=wrong-secret run badkey --dbname "$DSN" --slot unfixable --sink kinesis \
	--stream events --endpoint-url "$M" --region us-east-1 --dead-letter "$TMP/dl.ndjson"
one_line badkey "a wrong secret key" 'Signature'

run nobucket --dbname "$DSN" --slot unfixable --sink s3 --s3-bucket no-such-bucket \
	--s3-endpoint-url "$M" --region us-east-1 --dead-letter "$TMP/dl.ndjson"
one_line nobucket "a missing bucket" 'NoSuchBucket'

es_done
