#!/usr/bin/env bash
# scripts/demo.sh (`make demo`): a local sandbox to try Parley with two people.
# Starts an isolated Prosody in .sandbox/prosody (scripts/start-prosody.sh), creates the accounts
# alice and bob, subscribes them to each other, writes two profiles that trust the sandbox CA and
# remember the passwords (.sandbox/profiles/{alice,bob}), and starts two Parley windows that log in
# by themselves. Ctrl-C stops everything this script started.
#
# Env:
#   DEMO_HEADLESS=1     run under Xvfb (no visible windows; for testing the demo itself)
#   DEMO_EXIT_AFTER=N   stop by itself N seconds after both windows are up (default: wait for Ctrl-C)
#   DEMO_SCREENSHOT=F   with DEMO_EXIT_AFTER: a PNG of alice's window just before stopping
#   DEMO_PORT_BASE=N    Prosody ports N..N+3 (default 15222)
#   PARLEY_BIN          a prebuilt app binary (default: build bin/parley)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SANDBOX="$ROOT/.sandbox"
SERVER_DIR="$SANDBOX/prosody"
PROFILES="$SANDBOX/profiles"
PORT_BASE=${DEMO_PORT_BASE:-15222}
BIN=${PARLEY_BIN:-$ROOT/bin/parley}
export PATH="$PATH:/usr/local/go/bin"

say() { echo "demo: $*"; }
die() { echo "demo: $*" >&2; exit 1; }

# --- The display. Without one (and without DEMO_HEADLESS=1), say what to do before starting anything.
if [ -z "${DEMO_INNER:-}" ] && [ "${DEMO_HEADLESS:-0}" = 1 ]; then
  command -v xvfb-run >/dev/null || die "DEMO_HEADLESS=1 needs xvfb-run (make deps)"
  say "DEMO_HEADLESS=1: running under Xvfb (the windows are not visible)"
  exec env DEMO_INNER=1 xvfb-run -a -s "-screen 0 1280x800x24" bash "$0" "$@"
fi
if [ -z "${DISPLAY:-}" ]; then
  cat >&2 <<'EOF'
demo: no DISPLAY is set, so Parley's windows cannot be shown.
demo: run `make demo` from a graphical desktop session (X11, or Wayland with XWayland),
demo: or run `DEMO_HEADLESS=1 make demo` to try it under Xvfb without visible windows.
EOF
  exit 1
fi

command -v prosody >/dev/null || die "prosody is not installed: run 'make deps' first"
[ -x scripts/start-prosody.sh ] || die "scripts/start-prosody.sh is missing"

# --- Cleanup: stop what this script started, by PID, once.
APP_PIDS=()
STARTED_SERVER=0
BUS_PID=
cleanup() {
  local rc=$?
  trap - INT TERM EXIT
  if [ ${#APP_PIDS[@]} -gt 0 ]; then
    say "stopping Parley (pids ${APP_PIDS[*]})"
    for pid in "${APP_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
      local alive=0
      for pid in "${APP_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
    for pid in "${APP_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  if [ $STARTED_SERVER = 1 ]; then
    say "stopping Prosody"
    bash scripts/stop-prosody.sh "$SERVER_DIR" >/dev/null 2>&1 || true
  fi
  if [ -n "$BUS_PID" ]; then kill "$BUS_PID" 2>/dev/null || true; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The binary and the setup helper.
if [ -z "${PARLEY_BIN:-}" ]; then   # (re)build: quick when up to date, and never runs a stale binary
  bash scripts/gobuild.sh "$BIN"
fi
[ -x "$BIN" ] || die "$BIN is not an executable"
SETUP="$SANDBOX/demo-setup"
mkdir -p "$SANDBOX"
say "building the sandbox's setup helper"
go build -o "$SETUP" ./scripts/demo-setup

# --- The server (an instance left over from an interrupted demo is stopped first).
mkdir -p "$SERVER_DIR"
bash scripts/stop-prosody.sh "$SERVER_DIR" >/dev/null 2>&1 || true
READY=$(bash scripts/start-prosody.sh "$SERVER_DIR" "$PORT_BASE") || die "Prosody did not start (log: $SERVER_DIR/prosody.err)"
STARTED_SERVER=1
say "$READY"
CA=$(sed -n 's/.* ca=\([^ ]*\).*/\1/p' <<<"$READY")
[ -s "$CA" ] || CA="$SERVER_DIR/certs/ca.crt"

# --- Accounts, subscription, profiles.
"$SETUP" -host 127.0.0.1 -port "$PORT_BASE" -domain localhost -ca "$CA" -profiles "$PROFILES" \
  -users "alice:alice-pass,bob:bob-pass"

# --- Two Parley windows, on a session bus (notifications, theme changes): the desktop's, or else a
# private one for the demo (no Secret Service runs on it, so the keyring lookups fail fast and the
# profiles keep the passwords in their folders). Without dbus-daemon, point at a bus that does not
# exist rather than auto-launch one (Parley then says once that notifications are off).
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  if command -v dbus-daemon >/dev/null; then
    rm -f "$SANDBOX/session-bus"
    dbus-daemon --session --nofork --nopidfile --address="unix:path=$SANDBOX/session-bus" >"$SANDBOX/dbus.log" 2>&1 &
    BUS_PID=$!
    for _ in $(seq 50); do [ -S "$SANDBOX/session-bus" ] && break; sleep 0.1; done
    export DBUS_SESSION_BUS_ADDRESS="unix:path=$SANDBOX/session-bus"
    say "started a private session bus for the demo (pid $BUS_PID)"
  else
    export DBUS_SESSION_BUS_ADDRESS="unix:path=$SANDBOX/no-session-bus"
  fi
fi
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="$SANDBOX/runtime"; mkdir -p "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
fi
for user in alice bob; do
  "$BIN" --profile "$PROFILES/$user" >"$SANDBOX/$user.log" 2>&1 &
  APP_PIDS+=($!)
  say "started Parley for $user@localhost (pid $!, log .sandbox/$user.log)"
done

# --- Wait until both windows show their account (title "Parley — user@localhost", or "Parley (N) — ..."
#     with unread messages: logged in).
if command -v xdotool >/dev/null; then
  deadline=$(( $(date +%s) + 60 ))
  for user in alice bob; do
    until xdotool search --name "Parley.* — $user@localhost" >/dev/null 2>&1; do
      for pid in "${APP_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "a Parley process exited; see .sandbox/*.log"; done
      [ "$(date +%s)" -lt $deadline ] || die "no logged-in window for $user after 60 s; see .sandbox/$user.log"
      sleep 0.2
    done
    say "window up: $(xdotool search --name "Parley.* — $user@localhost" getwindowname 2>/dev/null | head -n1)"
  done
else
  say "(xdotool is not installed: not checking the windows)"
fi

say "alice and bob are logged in. Passwords: alice-pass, bob-pass. Press Ctrl-C to stop the demo."
if [ -n "${DEMO_EXIT_AFTER:-}" ]; then
  sleep "$DEMO_EXIT_AFTER"
  if [ -n "${DEMO_SCREENSHOT:-}" ] && command -v import >/dev/null; then
    wid=$(xdotool search --onlyvisible --name "alice@" 2>/dev/null | head -n1 || true)
    if [ -n "$wid" ] && xdotool windowraise "$wid" 2>/dev/null && import -window "$wid" "$DEMO_SCREENSHOT" 2>/dev/null; then
      say "screenshot of alice's window: $DEMO_SCREENSHOT"
    else
      say "no screenshot taken (alice's window not found)"
    fi
  fi
  say "DEMO_EXIT_AFTER=$DEMO_EXIT_AFTER reached"
  exit 0
fi
wait "${APP_PIDS[@]}" || true
