#!/usr/bin/env bash
#
# t_relay_slot_pgoutput.sh - t_relay_slot.sh (two sinks, the slot advancing while only other tables are written, state file, filters, invalidated slot) with the relay reading pgoutput
# and a publication (--decoder pgoutput, through EVENTRELAY_DECODER) instead
# of the eventstore plugin: the same delivery guarantees from either decoder.
# pgoutput differs by version (empty transactions, origins), so:
#
# matrix: every PostgreSQL version
set -Eeuo pipefail
export EVENTRELAY_DECODER=pgoutput
exec bash "$(dirname "${BASH_SOURCE[0]}")/t_relay_slot.sh" "$@"
