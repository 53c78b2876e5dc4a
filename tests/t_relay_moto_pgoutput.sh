#!/usr/bin/env bash
#
# t_relay_moto_pgoutput.sh - t_relay_moto.sh (Kinesis (moto, AWS CLI read-back), SIGTERM, exit codes) with the relay reading pgoutput
# and a publication (--decoder pgoutput, through EVENTRELAY_DECODER) instead
# of the eventstore plugin: the same delivery guarantees from either decoder.
set -Eeuo pipefail
export EVENTRELAY_DECODER=pgoutput
exec bash "$(dirname "${BASH_SOURCE[0]}")/t_relay_moto.sh" "$@"
