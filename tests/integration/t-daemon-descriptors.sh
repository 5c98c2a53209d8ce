#!/bin/bash
# mailwarden closes the descriptors the starting shell left open: started with descriptor 7 open
# on a file (and 9 on a pipe), the running daemon has no descriptor on either.
. "$(dirname "$0")/lib.sh"
mw_init t-daemon-descriptors

dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" </dev/null
INHERITED=$MW_WORK/inherited-file
: >"$INHERITED"
exec 7>>"$INHERITED"
exec 9< <(:)    # the read end of a pipe whose writer is done
PIPE=$(readlink /proc/$$/fd/9)
mw_start "$MW_WORK/mailwarden.conf"
exec 7>&- 9<&-

name="descriptors: an inherited file and pipe are not open in the daemon"
links=$(for fd in /proc/"$MW_PID"/fd/*; do readlink "$fd"; done 2>/dev/null)
why_not=""
[ -n "$links" ] || why_not="cannot read /proc/$MW_PID/fd"
printf '%s\n' "$links" | grep -qxF "$INHERITED" && why_not="the daemon holds $INHERITED"
printf '%s\n' "$links" | grep -qxF "$PIPE" && why_not="${why_not:+$why_not; }the daemon holds the inherited $PIPE"
if [ -z "$why_not" ]; then pass "$name"; else fail "$name" "$why_not"; fi
mw_finish "descriptors: the daemon stops on SIGTERM"
