#!/usr/bin/env bash
# stop-prosody.sh DIR [--kill]
# Stops the Prosody started by start-prosody.sh DIR, by the PID in DIR/prosody.pid:
# SIGTERM, wait up to 10 s, then SIGKILL. --kill sends SIGKILL at once (simulates a crash:
# no stream close, stream management state lost). Never matches processes by name.
set -uo pipefail
DIR=$(cd "${1:?usage: $0 DIR [--kill]}" && pwd)
PIDFILE="$DIR/prosody.pid"
[ -s "$PIDFILE" ] || PIDFILE="$DIR/launcher.pid"
if [ ! -s "$PIDFILE" ]; then echo "no pidfile in $DIR" >&2; exit 0; fi
PID=$(cat "$PIDFILE")
# A dead but not yet reaped process shows state Z: its sockets are closed, count it as stopped.
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]; }
if ! alive "$PID"; then
  echo "pid $PID not running"; rm -f "$DIR/prosody.pid" "$DIR/launcher.pid"; exit 0
fi
# make sure the PID really is the prosody of this DIR
if ! tr '\0' ' ' < "/proc/$PID/cmdline" | grep -q -- "$DIR/prosody.cfg.lua"; then
  echo "pid $PID is not prosody for $DIR; refusing" >&2; exit 1
fi
SIG=TERM; [ "${2:-}" = "--kill" ] && SIG=KILL
kill -s "$SIG" "$PID"
for _ in $(seq 1 500); do
  alive "$PID" || { echo "stopped pid $PID ($SIG)"; rm -f "$DIR/prosody.pid" "$DIR/launcher.pid"; exit 0; }
  sleep 0.02
done
echo "pid $PID ignored SIGTERM for 10 s; sending SIGKILL" >&2
kill -s KILL "$PID"; sleep 0.2
rm -f "$DIR/prosody.pid" "$DIR/launcher.pid"
