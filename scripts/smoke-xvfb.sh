#!/usr/bin/env bash
# scripts/smoke-xvfb.sh: smoke test of the real desktop app. Starts bin/parley under Xvfb with a throwaway
# profile, waits for a window whose title contains "Parley", screenshots the screen, checks that the
# window is not blank, starts it a second time with an xmpp: URI (which must hand the URI to the first
# and exit 0, with no second window), stops the app. Exits non-zero with a clear message on any failure.
#
# Env:
#   PARLEY_BIN        binary to run (default: bin/parley, rebuilt first with go build)
#   SCREENSHOT_OUT    where the screenshot goes (default: $SMOKE_DIR/screenshot.png);
#                     e.g. SCREENSHOT_OUT=docs/screenshot.png for the README
#   SCREENSHOT_CROP   window (default: the app window only) or root (the whole 1280x800 screen)
#   SMOKE_DIR         logs and screenshots (default: /tmp/parley-smoke)
#   SMOKE_TIMEOUT     seconds to wait for the window and a non-blank picture (default: 60)
#   SMOKE_TITLE       window title to look for (default: Parley)
#   SMOKE_MIN_COLOURS unique colours the window must show to count as drawn (default: 16)
#   SMOKE_ARGS        extra arguments for the app
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$ROOT/scripts/smoke-xvfb.sh"
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
log() { echo "smoke: $*"; }

# ---------------------------------------------------------------------------------------------------
# Inner part: runs under xvfb-run (DISPLAY is set), with the paths prepared by the outer part.
APP_PID="" BUS_PID=""   # global: the EXIT trap runs after inner() has returned
cleanup_inner() {
  if [ -n "$APP_PID" ] && kill -0 "$APP_PID" 2>/dev/null; then
    kill -TERM "$APP_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$APP_PID" 2>/dev/null || true
  fi
  if [ -n "$BUS_PID" ]; then
    kill -TERM "$BUS_PID" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$BUS_PID" 2>/dev/null || break; sleep 0.1; done
  fi
}
inner() {
  local app_pid wid="" deadline now colours sd geo
  trap cleanup_inner EXIT

  # A private session bus, so the app's keyring/notification calls neither reach the user's bus nor
  # auto-launch a bus that outlives the test. Without dbus-daemon, point at a socket that does not exist.
  if command -v dbus-daemon >/dev/null 2>&1; then
    dbus-daemon --session --nofork --nopidfile --address="unix:path=$SMOKE_WORK/bus" \
      >"$SMOKE_WORK/dbus.log" 2>&1 &
    BUS_PID=$!
    for _ in $(seq 50); do [ -S "$SMOKE_WORK/bus" ] && break; sleep 0.1; done
  fi
  export DBUS_SESSION_BUS_ADDRESS="unix:path=$SMOKE_WORK/bus"

  # shellcheck disable=SC2086 # SMOKE_ARGS is a list of words on purpose
  "$SMOKE_BIN" --profile "$SMOKE_WORK/profile" ${SMOKE_ARGS:-} >"$SMOKE_DIR/app.log" 2>&1 &
  APP_PID=$!; app_pid=$APP_PID
  deadline=$(( $(date +%s) + SMOKE_TIMEOUT ))

  # 1. Wait for a visible window with the title.
  while :; do
    kill -0 "$app_pid" 2>/dev/null || { tail -n 30 "$SMOKE_DIR/app.log" >&2 || true
      fail "the app exited before showing a window (log: $SMOKE_DIR/app.log)"; }
    wid=$(xdotool search --onlyvisible --name "$SMOKE_TITLE" 2>/dev/null | head -n 1 || true)
    [ -n "$wid" ] && break
    now=$(date +%s)
    if [ "$now" -ge "$deadline" ]; then
      xwininfo -root -tree >"$SMOKE_DIR/windows.txt" 2>&1 || true
      fail "no window titled '$SMOKE_TITLE' after ${SMOKE_TIMEOUT}s (windows: $SMOKE_DIR/windows.txt, log: $SMOKE_DIR/app.log)"
    fi
    sleep 0.2
  done
  log "window $wid '$(xdotool getwindowname "$wid" 2>/dev/null || true)' after $(( $(date +%s) - deadline + SMOKE_TIMEOUT ))s"

  # 2. Screenshot until the window shows real content (the first frames may still be empty).
  while :; do
    import -window root "$SMOKE_DIR/root.png" 2>"$SMOKE_DIR/import.log" || fail "import failed: $(cat "$SMOKE_DIR/import.log")"
    geo=""
    eval "$(xdotool getwindowgeometry --shell "$wid" 2>/dev/null | grep -E '^(X|Y|WIDTH|HEIGHT)=[0-9]+$' || true)"
    if [ -n "${WIDTH:-}" ] && [ -n "${HEIGHT:-}" ]; then geo="${WIDTH}x${HEIGHT}+${X:-0}+${Y:-0}"; fi
    if [ -n "$geo" ]; then
      convert "$SMOKE_DIR/root.png" -crop "$geo" +repage "$SMOKE_DIR/window.png"
    else
      cp "$SMOKE_DIR/root.png" "$SMOKE_DIR/window.png"
    fi
    colours=$(identify -format '%k' "$SMOKE_DIR/window.png" 2>/dev/null || echo 0)
    sd=$(identify -format '%[fx:standard_deviation]' "$SMOKE_DIR/window.png" 2>/dev/null || echo 0)
    if [ "${colours:-0}" -ge "$SMOKE_MIN_COLOURS" ] && awk -v s="$sd" 'BEGIN { exit !(s > 0.01) }'; then
      break
    fi
    now=$(date +%s)
    [ "$now" -lt "$deadline" ] || fail "the window looks blank after ${SMOKE_TIMEOUT}s: $colours colours, standard deviation $sd (screenshot: $SMOKE_DIR/root.png)"
    kill -0 "$app_pid" 2>/dev/null || fail "the app exited while drawing (log: $SMOKE_DIR/app.log)"
    sleep 0.3
  done
  log "window ${geo:-?}: $colours colours, standard deviation $sd"

  kill -0 "$app_pid" 2>/dev/null || fail "the app died right after drawing (log: $SMOKE_DIR/app.log)"
  if [ "$SCREENSHOT_CROP" = root ]; then cp "$SMOKE_DIR/root.png" "$SCREENSHOT_OUT"; else cp "$SMOKE_DIR/window.png" "$SCREENSHOT_OUT"; fi

  # 3. One instance per profile: a second start with an xmpp: URI hands it to the first and exits 0
  #    at once (no second window); the first says it opened it.
  second_rc=0
  timeout 20 "$SMOKE_BIN" --profile "$SMOKE_WORK/profile" "xmpp:friend@example.org?message;body=hello" \
    >"$SMOKE_DIR/second.log" 2>&1 || second_rc=$?
  [ "$second_rc" = 0 ] || fail "the second start exited $second_rc (log: $SMOKE_DIR/second.log)"
  grep -q "handed over to the Parley already running" "$SMOKE_DIR/second.log" ||
    fail "the second start did not hand over (log: $SMOKE_DIR/second.log)"
  for _ in $(seq 100); do
    grep -q "opening what a later start handed over" "$SMOKE_DIR/app.log" && break
    sleep 0.1
  done
  grep -q "opening what a later start handed over" "$SMOKE_DIR/app.log" ||
    fail "the first instance did not take the URI (log: $SMOKE_DIR/app.log)"
  windows=$(xdotool search --onlyvisible --name "$SMOKE_TITLE" 2>/dev/null | wc -l)
  [ "$windows" = 1 ] || fail "$windows windows titled '$SMOKE_TITLE' after the second start, want 1"
  log "a second start handed its xmpp: URI to the first and exited 0"
}

if [ "${1:-}" = --inner ]; then
  inner
  exit 0
fi

# ---------------------------------------------------------------------------------------------------
# Outer part: check tools, build, prepare folders, run the inner part under Xvfb.
START=$(date +%s)
export PATH="$PATH:/usr/local/go/bin"
for t in xvfb-run xauth xdotool xwininfo import convert identify; do
  command -v "$t" >/dev/null 2>&1 || fail "'$t' is missing: run 'make deps' (scripts/deps.sh)"
done

abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }   # relative to the caller's folder
export SMOKE_DIR; SMOKE_DIR=$(abspath "${SMOKE_DIR:-/tmp/parley-smoke}")
export SCREENSHOT_OUT; SCREENSHOT_OUT=$(abspath "${SCREENSHOT_OUT:-$SMOKE_DIR/screenshot.png}")
export SCREENSHOT_CROP=${SCREENSHOT_CROP:-window}
export SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-60}
export SMOKE_TITLE=${SMOKE_TITLE:-Parley}
export SMOKE_MIN_COLOURS=${SMOKE_MIN_COLOURS:-16}
export SMOKE_ARGS=${SMOKE_ARGS:-}
mkdir -p "$SMOKE_DIR" "$(dirname "$SCREENSHOT_OUT")"
rm -f "$SMOKE_DIR"/{root,window}.png "$SMOKE_DIR/app.log"

if [ -n "${PARLEY_BIN:-}" ]; then
  SMOKE_BIN=$(abspath "$PARLEY_BIN")
  [ -x "$SMOKE_BIN" ] || fail "PARLEY_BIN=$PARLEY_BIN is not an executable"
else
  SMOKE_BIN="$ROOT/bin/parley"
  log "building $SMOKE_BIN"
  (cd "$ROOT" && mkdir -p bin && go build -tags migrated_fynedo -o bin/parley .) || fail "go build failed"
fi
export SMOKE_BIN

# Throwaway profile and runtime folders; removed at exit. Fyne's own config goes there too.
export SMOKE_WORK; SMOKE_WORK=$(mktemp -d /tmp/parley-smoke-run.XXXXXX)
trap 'rm -rf "$SMOKE_WORK" 2>/dev/null || true' EXIT
mkdir -p "$SMOKE_WORK/profile" "$SMOKE_WORK/runtime" "$SMOKE_WORK/config" "$SMOKE_WORK/data" "$SMOKE_WORK/cache"
chmod 700 "$SMOKE_WORK/runtime"
export XDG_RUNTIME_DIR="$SMOKE_WORK/runtime" XDG_CONFIG_HOME="$SMOKE_WORK/config" \
       XDG_DATA_HOME="$SMOKE_WORK/data" XDG_CACHE_HOME="$SMOKE_WORK/cache"
unset DBUS_SESSION_BUS_ADDRESS WAYLAND_DISPLAY

log "starting $SMOKE_BIN under Xvfb (1280x800x24)"
rc=0
xvfb-run -a -e "$SMOKE_DIR/xvfb.log" -s "-screen 0 1280x800x24" "$SELF" --inner </dev/null || rc=$?
if [ $rc -ne 0 ]; then
  [ -s "$SMOKE_DIR/xvfb.log" ] && { echo "smoke: Xvfb said:" >&2; tail -n 5 "$SMOKE_DIR/xvfb.log" >&2; }
  echo "smoke: FAIL (exit $rc) after $(( $(date +%s) - START ))s; logs in $SMOKE_DIR" >&2
  exit 1
fi
log "ok in $(( $(date +%s) - START ))s; screenshot: $SCREENSHOT_OUT"
