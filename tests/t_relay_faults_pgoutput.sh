#!/usr/bin/env bash
#
# t_relay_faults_pgoutput.sh - t_relay_faults.sh (SIGKILL loop, PostgreSQL restart, endpoint outage, partial failures) with the relay reading pgoutput
# and a publication (--decoder pgoutput, through EVENTRELAY_DECODER) instead
# of the eventstore plugin: the same delivery guarantees from either decoder.
set -Eeuo pipefail
export EVENTRELAY_DECODER=pgoutput
exec bash "$(dirname "${BASH_SOURCE[0]}")/t_relay_faults.sh" "$@"
