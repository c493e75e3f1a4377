#!/usr/bin/env bash
# stop-ejabberd.sh DIR [--kill]
# Stops the ejabberd started by start-ejabberd.sh DIR, by the PID of its Erlang VM in
# DIR/ejabberd.pid: SIGTERM (graceful init:stop), wait up to 15 s, then SIGKILL.
# --kill sends SIGKILL at once (simulates a crash). Never matches processes by name.
set -uo pipefail
DIR=$(cd "${1:?usage: $0 DIR [--kill]}" && pwd)
PID=$(cat "$DIR/ejabberd.pid" 2>/dev/null || true)
[ -n "$PID" ] || PID=$(cat "$DIR/launcher.pid" 2>/dev/null || true)
[ -n "$PID" ] || { echo "no pidfile in $DIR"; exit 0; }
# A dead but not yet reaped process shows state Z: count it as stopped.
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]; }
alive "$PID" || { echo "pid $PID not running"; rm -f "$DIR/ejabberd.pid" "$DIR/launcher.pid"; exit 0; }
tr '\0' ' ' < "/proc/$PID/cmdline" | grep -q -- "$DIR/spool" || { echo "pid $PID is not ejabberd for $DIR" >&2; exit 1; }
SIG=TERM; [ "${2:-}" = "--kill" ] && SIG=KILL
kill -s $SIG "$PID"
for _ in $(seq 1 750); do
  alive "$PID" || { echo "stopped pid $PID ($SIG)"; rm -f "$DIR/ejabberd.pid" "$DIR/launcher.pid"; exit 0; }
  sleep 0.02
done
echo "still alive after 15 s, SIGKILL" >&2; kill -s KILL "$PID"; rm -f "$DIR/ejabberd.pid" "$DIR/launcher.pid"
