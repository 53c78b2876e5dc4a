#!/usr/bin/env bash
#
# t_rds_iam_token.sh - the relay's RDS IAM database authentication
# (--rds-iam-auth), checked against the AWS tools and a real PostgreSQL:
#   - its tokens are botocore's (`aws rds generate-db-auth-token`) byte for
#     byte, and carry the same parameters and signature as the AWS SDK for
#     JavaScript's @aws-sdk/rds-signer, on fixed and random inputs at fixed
#     clocks (temporary credentials, odd role names, upper-case hosts, ports);
#   - end to end, at a fixed clock (faketime), against PostgreSQL with TLS and
#     `password` authentication for the role: sslmode=verify-full with the
#     server's CA connects with the token botocore computed beforehand and set
#     as the role's password, events stream; after a reconnection at a later
#     clock the relay logs in with the new token (a stale one is refused);
#   - a conninfo without verify-full is refused (exit 2) before anything is
#     sent; a host name the certificate does not match gets no token; a token
#     the server refuses ends the relay with exit 2 and a hint; no token,
#     secret key or session token in the relay's or the server's log.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_aws.sh"

es_need python3 node faketime openssl
python3 -c 'import botocore' 2>/dev/null || {
	echo "skipped: python3 has no botocore (scripts/deps.sh aws)"
	exit 77
}
[[ -d $ES_ROOT/tests/node_modules/@aws-sdk/rds-signer ]] || {
	echo "skipped: tests/node_modules/@aws-sdk/rds-signer is missing (scripts/deps.sh node)"
	exit 77
}
RELAY=$(es_relay_bin)
HERE=$ES_ROOT/tests/rds_iam
es_tmpdir >/dev/null
TMP=$ES_TMP
make -C "$ES_ROOT/relay" -s test/bin/test_aws_rds_token >/dev/null || es_die "building test_aws_rds_token failed"

# --- 1. tokens: the relay against botocore and @aws-sdk/rds-signer -------------
SEED=${RDS_TOKEN_SEED:-$RANDOM}
python3 - "$SEED" >"$TMP/vectors.tsv" <<'PY'
import random, string, sys
r = random.Random(int(sys.argv[1]))
fixed = [
    (1767225600, "mydb.abc123.us-east-1.rds.amazonaws.com", 5432, "relay", "us-east-1",
     "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "-"),
    (951782400, "orders.cluster-c9xyz.eu-central-1.rds.amazonaws.com", 5432, "event_relay",
     "eu-central-1", "ASIAEXAMPLE", "s3cr3t+/=", "FwoGZXIvYXdzE//////////wEaD+/="),
]
for v in fixed:
    print("\t".join(map(str, v)))
b64 = string.ascii_letters + string.digits + "+/="
for _ in range(40):
    host = r.choice(["db%d.%s.rds.amazonaws.com", "cluster-%d.cluster-ro-%s.rds.amazonaws.com",
                     "10.%d.0.%s"]) % (r.randrange(100), r.choice(["xyz", "abc", "7"]))
    if r.random() < 0.15:
        host = host.upper()
    port = r.choice([5432, 5432, 6543, 443, 15432, 1])
    user = "".join(r.choice(string.ascii_letters + string.digits + "_-.~ &=@+/%\u00fc\u20ac")
                   for _ in range(r.randrange(1, 24)))
    region = r.choice(["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "us-gov-west-1"])
    akid = r.choice(["AKIA", "ASIA"]) + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    secret = "".join(r.choice(b64) for _ in range(40))
    token = "-" if r.random() < 0.4 else "".join(r.choice(b64) for _ in range(r.randrange(20, 400)))
    epoch = r.randrange(946684800, 2082758400)
    print("\t".join(map(str, (epoch, host, port, user, region, akid, secret, token))))
PY
N=$(wc -l <"$TMP/vectors.tsv")
python3 "$HERE/botocore_token.py" --vectors "$TMP/vectors.tsv" >"$TMP/botocore.txt" ||
	es_die "botocore could not compute the tokens"
node "$HERE/js_token.js" --vectors "$TMP/vectors.tsv" >"$TMP/js.txt" ||
	es_die "@aws-sdk/rds-signer could not compute the tokens"
es_eq "botocore and the JS signer each gave $N tokens" "$N $N" \
	"$(wc -l <"$TMP/botocore.txt") $(wc -l <"$TMP/js.txt")"
paste "$TMP/vectors.tsv" "$TMP/botocore.txt" >"$TMP/relay_vectors.tsv"
if (cd "$ES_ROOT/relay/test" && RDS_TOKEN_VECTORS="$TMP/relay_vectors.tsv" ./bin/test_aws_rds_token) \
	>"$TMP/unit.log" 2>&1 && grep -q "checked $N vectors" "$TMP/unit.log"; then
	es_ok "the relay's $N tokens are botocore's, byte for byte (seed $SEED)"
else
	cat "$TMP/unit.log"
	es_not_ok "the relay's tokens are botocore's, byte for byte (seed $SEED)"
fi
# The JS signer sorts every parameter (X-Amz-Signature too) and, unlike
# botocore, signs the host as given with :443 kept: compare parameter sets
# where the two AWS SDKs sign the same Host header.
python3 - "$TMP/vectors.tsv" "$TMP/botocore.txt" "$TMP/js.txt" >"$TMP/js_cmp.txt" <<'PY'
import sys
vec = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
bot = open(sys.argv[2]).read().split("\n")
js = open(sys.argv[3]).read().split("\n")
same = comparable = 0
for v, b, j in zip(vec, bot, js):
    if v[1] != v[1].lower() or v[2] == "443":
        continue
    comparable += 1
    key = lambda t: (t.split("?")[0], sorted(t.split("?")[1].split("&")))
    if key(b) == key(j):
        same += 1
    else:
        print("differs:", v, b, j, file=sys.stderr)
print(same, comparable)
PY
read -r SAME COMPARABLE <"$TMP/js_cmp.txt"
es_check "at least 20 vectors where both SDKs sign the same Host header ($COMPARABLE)" test "$COMPARABLE" -ge 20
es_eq "the relay's tokens carry @aws-sdk/rds-signer's parameters and signature" "$COMPARABLE" "$SAME"

# --- 2. end to end: PostgreSQL with TLS, password authentication for the role --
# A CA and a server certificate for "localhost" (not for 127.0.0.1).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=eventrelay test CA" \
	-keyout "$TMP/ca.key" -out "$TMP/ca.crt" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$TMP/server.key" \
	-out "$TMP/server.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost\n' >"$TMP/san.ext"
openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" -CAcreateserial \
	-days 2 -extfile "$TMP/san.ext" -out "$TMP/server.crt" >/dev/null 2>&1 ||
	es_die "openssl could not make the test certificates"
chmod 600 "$TMP/server.key"
es_chown_pg "$TMP/server.key" "$TMP/server.crt"
es_cluster_start "ssl = on" "ssl_cert_file = '$TMP/server.crt'" "ssl_key_file = '$TMP/server.key'" \
	"log_connections = on" "password_encryption = 'scram-sha-256'"
es_psql -c 'CREATE EXTENSION eventstore'
es_psql -c "CREATE ROLE relay LOGIN REPLICATION PASSWORD 'not-a-token'"
# The role logs in by password only (cleartext, as RDS's PAM does), on every path.
{
	echo "host all relay 127.0.0.1/32 password"
	echo "host replication relay 127.0.0.1/32 password"
	cat "$ES_PGDATA/pg_hba.conf"
} >"$TMP/hba" && cat "$TMP/hba" >"$ES_PGDATA/pg_hba.conf"
es_psql -c 'SELECT pg_reload_conf()' >/dev/null

export AWS_ACCESS_KEY_ID=ASIAQRELAYTESTKEY01 AWS_SECRET_ACCESS_KEY='Rds/IamTest+SecretKey=0123456789abcdefghij'
export AWS_SESSION_TOKEN='IQoJb3JpZ2luX2VjRelayTest/Session+Token=='
SECRETS=("$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "X-Amz-Signature" "Action=connect")
DSN="host=localhost port=$PGPORT user=relay dbname=postgres sslmode=verify-full sslrootcert=$TMP/ca.crt"
# Frozen clocks inside the certificates' validity: now, and 7.5 minutes on.
E1=$(date -u +%s)
E2=$((E1 + 450))
T1=$(date -u -d "@$E1" '+%Y-%m-%d %H:%M:%S') T2=$(date -u -d "@$E2" '+%Y-%m-%d %H:%M:%S')

# no_secret FILE...: none of the secrets (nor any token part) in the files.
no_secret() {
	local s f
	for f in "$@"; do
		for s in "${SECRETS[@]}"; do
			grep -qF -- "$s" "$f" && {
				echo "found a secret in $f" >&2
				return 1
			}
		done
	done
	return 0
}
run_relay() { # run_relay LOG ARGS...: the relay with the stdout sink, exit code on stdout
	local log=$1 rc=0
	shift
	timeout 30 "$RELAY" --sink stdout --slot iam --dead-letter "$TMP/dl.ndjson" --region us-east-1 \
		--rds-iam-auth "$@" >"$log.out" 2>"$log" || rc=$?
	echo "$rc"
}

rc=$(run_relay "$TMP/weak.log" --dbname "host=localhost port=$PGPORT user=relay dbname=postgres sslmode=require")
es_eq "sslmode=require with --rds-iam-auth: exit 2" 2 "$rc"
es_check "... saying verify-full is needed" grep -q "sslmode=verify-full" "$TMP/weak.log"
rc=$(run_relay "$TMP/nomode.log" --dbname "host=localhost port=$PGPORT user=relay dbname=postgres")
es_eq "no sslmode (libpq's prefer) with --rds-iam-auth: exit 2" 2 "$rc"
es_check "... and the server saw no login of relay" bash -c "! grep -q 'user=relay' '$ES_PGLOG'"

# verify-full to an address the certificate does not name: no token leaves
rc=0
timeout 4 "$RELAY" --sink stdout --slot iam --region us-east-1 --rds-iam-auth --reconnect-max 1 \
	--dbname "host=127.0.0.1 port=$PGPORT user=relay dbname=postgres sslmode=verify-full sslrootcert=$TMP/ca.crt" \
	>/dev/null 2>"$TMP/mismatch.log" || rc=$?
es_eq "verify-full to 127.0.0.1 (certificate for localhost): no connection, retrying" 124 "$rc"
es_check "... the log names the host name mismatch" grep -q "does not match host name" "$TMP/mismatch.log"
es_check "... and the server saw no password for relay" bash -c "! grep -q 'user=relay' '$ES_PGLOG'"

# The wall clock's token cannot be the role's password: refused, exit 2, a hint.
rc=$(run_relay "$TMP/refused.log" --dbname "$DSN")
es_eq "a token the server refuses: exit 2" 2 "$rc"
es_check "... 'password authentication failed' with the IAM hint" \
	grep -q "password authentication failed.*IAM database authentication for user \"relay\" at localhost:$PGPORT in us-east-1" "$TMP/refused.log"
es_check "... the connection was TLS-verified and the token sent (server log)" \
	grep -q 'password authentication failed for user "relay"' "$ES_PGLOG"

# At a fixed clock, the role's password set beforehand to botocore's token.
botocore_token() { python3 "$HERE/botocore_token.py" "$1" localhost "$PGPORT" relay us-east-1; }
TOK1=$(botocore_token "$E1")
TOK2=$(botocore_token "$E2")
SECRETS+=("$TOK1" "$TOK2")
es_check "the two clocks give two different tokens" test "$TOK1" != "$TOK2"
set_password() { es_psql -c "ALTER ROLE relay PASSWORD '$1'" >/dev/null; }
set_password "$TOK1"
echo "$T1" >"$TMP/clock"
# libfaketime directly (the faketime wrapper's FAKETIME would win over the
# file): the wall clock is what $TMP/clock says, read at every call.
LIBFAKETIME=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	[[ -e $f ]] && LIBFAKETIME=$f && break
done
[[ -n $LIBFAKETIME ]] || es_die "libfaketime.so.1 not found (scripts/deps.sh relay)"
LD_PRELOAD=$LIBFAKETIME FAKETIME_TIMESTAMP_FILE=$TMP/clock FAKETIME_NO_CACHE=1 \
	FAKETIME_DONT_FAKE_MONOTONIC=1 TZ=UTC "$RELAY" --sink stdout --slot iam --create-slot --region us-east-1 \
	--rds-iam-auth --dbname "$DSN" --status-interval 1 --dead-letter "$TMP/dl.ndjson" \
	>"$TMP/stream.ndjson" 2>"$TMP/stream.log" &
RELAY_PID=$!
es_on_exit "kill -9 $RELAY_PID"
slot_pid() { es_psql -c "SELECT COALESCE(active_pid, 0) FROM pg_replication_slots WHERE slot_name = 'iam'"; }
wait_lines() { # wait_lines N: until the relay wrote N events (or 30 s)
	local i
	for ((i = 0; i < 300; i++)); do
		[[ $(wc -l <"$TMP/stream.ndjson") -ge $1 ]] && return 0
		kill -0 "$RELAY_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
for ((i = 0; i < 300; i++)); do
	P1=$(slot_pid)
	[[ -n $P1 && $P1 != 0 ]] && break
	kill -0 "$RELAY_PID" 2>/dev/null || break
	sleep 0.1
done
es_check "at the fixed clock, the relay logged in with botocore's token (TLS verify-full)" \
	test -n "$P1" -a "$P1" != 0
es_psql -c "SELECT eventstore.append(gen_random_uuid(), 'iam', 0, '[{\"type\":\"First\"}]')" >/dev/null
es_check "... and streams events" wait_lines 1

# A later clock, a new password: the reconnection must sign a new token.
echo "$T2" >"$TMP/clock"
set_password "$TOK2"
es_psql -c "SELECT pg_terminate_backend($P1)" >/dev/null
for ((i = 0; i < 300; i++)); do
	P2=$(slot_pid)
	[[ -n $P2 && $P2 != 0 && $P2 != "$P1" ]] && break
	kill -0 "$RELAY_PID" 2>/dev/null || break
	sleep 0.1
done
es_check "after the connection was cut, the relay logged in again with the new clock's token" \
	test -n "$P2" -a "$P2" != 0 -a "$P2" != "$P1"
es_psql -c "SELECT eventstore.append(gen_random_uuid(), 'iam', 0, '[{\"type\":\"Second\"}]')" >/dev/null
es_check "... and streams on" wait_lines 2
es_eq "the two events, in order" "First Second" "$(jq -r .type "$TMP/stream.ndjson" | xargs)"
kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
es_eq "the relay stops cleanly on SIGTERM" 0 "$rc"
es_eq "the server saw two TLS replication logins of relay" 2 \
	"$(grep -c 'replication connection authorized: user=relay.*SSL enabled' "$ES_PGLOG" || true)"
es_check "no token, secret key or session token in any relay or server log" \
	no_secret "$TMP"/*.log "$ES_PGLOG"

es_done
