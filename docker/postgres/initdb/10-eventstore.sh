#!/bin/sh
# First start of the demo database (run by the postgres image's entrypoint,
# as the postgres user, before the server opens to the network):
#   - the eventstore extension,
#   - a login for the relay (REPLICATION + eventstore_relay) and one for the
#     writer (eventstore_writer),
#   - replication connections allowed from the compose network (the image's
#     pg_hba.conf lets other hosts make only normal connections).
set -eu

: "${RELAY_PASSWORD:?set RELAY_PASSWORD}"
: "${WRITER_PASSWORD:?set WRITER_PASSWORD}"

psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
	-v relay_password="$RELAY_PASSWORD" -v writer_password="$WRITER_PASSWORD" <<'SQL'
CREATE EXTENSION IF NOT EXISTS eventstore;
CREATE ROLE relay LOGIN REPLICATION PASSWORD :'relay_password';
GRANT eventstore_relay TO relay;
CREATE ROLE writer LOGIN PASSWORD :'writer_password';
GRANT eventstore_writer TO writer;
SQL

echo "host replication relay all scram-sha-256" >>"$PGDATA/pg_hba.conf"
