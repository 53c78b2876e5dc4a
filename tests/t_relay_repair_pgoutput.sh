#!/usr/bin/env bash
#
# t_relay_repair_pgoutput.sh - t_relay_repair.sh with the relay reading pgoutput and
# a publication (--decoder pgoutput, through EVENTRELAY_DECODER): the managed
# servers' path (RDS, Aurora) gets the same repair with the same envelopes.
set -Eeuo pipefail
export EVENTRELAY_DECODER=pgoutput
exec bash "$(dirname "${BASH_SOURCE[0]}")/t_relay_repair.sh" "$@"
