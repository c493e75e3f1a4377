#!/usr/bin/env bash
# scripts/deps.sh: installs everything Parley's build, tests, benchmarks and demo need on Debian 12 or
# Ubuntu (Debian packages via apt, pinned Go tools into .tools/bin). Idempotent: a second run only checks,
# needs no network and no sudo. Go itself is not installed here; the script says so if it is missing.
#
# Env: DEPS_QUIET=1 prints only problems and the final line.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_BIN="$ROOT/.tools/bin"
STATICCHECK_VERSION=v0.8.2   # staticcheck 2026.2.2, the first line that supports Go 1.26
FYNE_TOOL_VERSION=v1.7.4     # fyne.io/tools/cmd/fyne, the packaging CLI
START=$(date +%s)

say() { [ "${DEPS_QUIET:-0}" = 1 ] || echo "deps: $*"; }
warn() { echo "deps: WARNING: $*" >&2; }
die() { echo "deps: ERROR: $*" >&2; exit 1; }

# Debian packages. Required ones make the script fail when apt cannot provide them; optional ones only
# warn (some are missing from older Ubuntu releases and nothing core depends on them).
REQUIRED_PKGS=(
  make git gcc pkg-config                                       # build
  libgl1-mesa-dev libx11-dev libxrandr-dev libxcursor-dev       # Fyne (GLFW, cgo)
  libxinerama-dev libxi-dev libxxf86vm-dev libxkbcommon-dev libwayland-dev
  libasound2-dev                                                # audio playback (oto, cgo)
  xvfb xauth xdotool imagemagick x11-utils                      # real-window smoke test, screenshots
  openssl iproute2 ca-certificates procps xz-utils              # test CA, fault injection (ss -K), pgrep
  prosody lua-dbi-sqlite3                                       # real XMPP server for tests and demo
  pulseaudio pulseaudio-utils                                   # headless audio for voice tests
  ffmpeg                                                        # voice messages: AAC/Opus/MP3 encode+decode
  libasound2-plugins sox espeak-ng                              # ALSA->Pulse routing, test speech
  go-sendxmpp                                                   # a real peer that shares files (HTTP upload)
  libvips-tools                                                 # vipsthumbnail: thumbnails, photos downscaled
  xclip                                                         # pictures pasted from the X clipboard
  desktop-file-utils appstream binutils                         # packaging: validate .desktop/metainfo, objdump
)
OPTIONAL_PKGS=(
  ejabberd erlang-p1-sqlite3                                    # second real server (interop tests)
  python3-slixmpp                                               # scripted peer client
  dbus-x11                                                      # session bus (keyring, notifications)
)
SERVICES=(prosody ejabberd)   # installed for their binaries only: tests run their own instances

# --- privileges -----------------------------------------------------------------------------------
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else SUDO=(__no_sudo__); fi
fi
as_root() {
  if [ "${SUDO[0]:-}" = __no_sudo__ ]; then
    die "need root for: $* (run as root or install sudo)"
  fi
  "${SUDO[@]}" "$@"
}

# --- Go -------------------------------------------------------------------------------------------
find_go() {
  local c
  for c in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go /usr/lib/go/bin/go "$HOME/go/bin/go" \
           "$HOME/sdk/go/bin/go"; do
    [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
  done
  return 1
}
# version_ge A B: true when dotted version A >= B (1.26.8 >= 1.26).
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

NEED_GO=$(awk '$1 == "go" { print $2; exit }' "$ROOT/go.mod" 2>/dev/null || true)
NEED_GO=${NEED_GO:-1.26}
GO=$(find_go) || die "Go is not installed. Parley needs Go $NEED_GO or newer; install it under /usr/local/go
       (so /usr/local/go/bin/go exists) and run this script again."
HAVE_GO=$("$GO" env GOVERSION 2>/dev/null | sed 's/^go//; s/[^0-9.].*$//')
version_ge "$HAVE_GO" "$NEED_GO" || die "$GO is Go $HAVE_GO, but go.mod needs Go $NEED_GO or newer.
       Install a newer Go under /usr/local/go and run this script again."
GO_DIR=$(dirname "$GO"); export PATH="$GO_DIR:$PATH"
say "Go $HAVE_GO at $GO"

# --- Debian packages ------------------------------------------------------------------------------
command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian 12 and Ubuntu only"

is_installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
missing_of() { local p; for p in "$@"; do is_installed "$p" || echo "$p"; done; }

# wait_for_apt: another apt/dpkg run (an unattended upgrade, another shell) holds the lock; wait for it.
wait_for_apt() {
  local deadline=$(( $(date +%s) + 900 )) told=0
  command -v pgrep >/dev/null 2>&1 || return 0   # no procps yet: apt's own lock timeout waits instead
  while pgrep -x apt-get >/dev/null 2>&1 || pgrep -x apt >/dev/null 2>&1 || pgrep -x dpkg >/dev/null 2>&1; do
    [ $told = 1 ] || { say "waiting for another apt/dpkg run to finish..."; told=1; }
    [ "$(date +%s)" -lt $deadline ] || die "apt/dpkg is still busy after 15 minutes"
    sleep 2
  done
}

# has_candidate PKG: apt knows a version of PKG it could install.
has_candidate() {
  local c
  c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }')
  [ -n "$c" ] && [ "$c" != "(none)" ]
}

mapfile -t MISSING_REQ < <(missing_of "${REQUIRED_PKGS[@]}")
mapfile -t MISSING_OPT < <(missing_of "${OPTIONAL_PKGS[@]}")
INSTALLED_SERVICE=0
if [ ${#MISSING_REQ[@]} -gt 0 ] || [ ${#MISSING_OPT[@]} -gt 0 ]; then
  say "missing Debian packages: ${MISSING_REQ[*]} ${MISSING_OPT[*]}"
  export DEBIAN_FRONTEND=noninteractive
  wait_for_apt
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q \
    || die "apt-get update failed"

  TO_INSTALL=()
  for p in "${MISSING_REQ[@]}"; do
    has_candidate "$p" || die "apt has no package '$p' (needed). Is this Debian 12 / Ubuntu 22.04+?"
    TO_INSTALL+=("$p")
  done
  for p in "${MISSING_OPT[@]}"; do
    if has_candidate "$p"; then TO_INSTALL+=("$p"); else warn "apt has no package '$p'; skipping it"; fi
  done
  for p in "${TO_INSTALL[@]}"; do
    for s in "${SERVICES[@]}"; do if [ "$p" = "$s" ]; then INSTALLED_SERVICE=1; fi; done
  done

  # Keep the packages' maintainer scripts from starting the system prosody/ejabberd: a policy-rc.d
  # that forbids every start, present only for the duration of this install (unless one exists).
  POLICY=/usr/sbin/policy-rc.d
  MADE_POLICY=0
  if [ $INSTALLED_SERVICE = 1 ] && [ ! -e $POLICY ]; then
    printf '#!/bin/sh\n# temporary, written by parley scripts/deps.sh: no service starts during install\nexit 101\n' \
      | as_root tee $POLICY >/dev/null
    as_root chmod 755 $POLICY
    MADE_POLICY=1
    trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
  fi

  if [ ${#TO_INSTALL[@]} -gt 0 ]; then
    say "apt-get install ${TO_INSTALL[*]}"
    wait_for_apt
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
      --no-install-recommends "${TO_INSTALL[@]}" || die "apt-get install failed"
  fi
  if [ $MADE_POLICY = 1 ]; then as_root rm -f $POLICY; trap - EXIT; fi
fi

# --- system services: installed for their binaries, never left running ----------------------------
# running_system_service NAME: the distribution's own instance runs (its pidfile or its service user);
# instances started by Parley's tests live in their own folders and are not matched.
running_system_service() {
  local pid
  if [ "$1" = prosody ] && [ -s /run/prosody/prosody.pid ]; then
    pid=$(cat /run/prosody/prosody.pid 2>/dev/null || true)
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && return 0
  fi
  command -v pgrep >/dev/null 2>&1 && pgrep -u "$1" >/dev/null 2>&1
}
systemd_up() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

for s in "${SERVICES[@]}"; do
  is_installed "$s" || continue
  if systemd_up; then
    # Booted with systemd: disable at boot and stop now (only touches root when something is on).
    if systemctl is-enabled --quiet "$s" 2>/dev/null || systemctl is-active --quiet "$s" 2>/dev/null; then
      say "disabling the system $s service (tests start their own instances)"
      as_root systemctl disable --now "$s" >/dev/null 2>&1 || warn "could not disable $s"
    fi
  elif [ $INSTALLED_SERVICE = 1 ] && [ -x /usr/sbin/update-rc.d ]; then
    as_root update-rc.d "$s" disable >/dev/null 2>&1 || true
  fi
  if running_system_service "$s"; then
    say "stopping the system $s service"
    if [ -x "/etc/init.d/$s" ]; then as_root "/etc/init.d/$s" stop >/dev/null 2>&1 || true; fi
    if [ "$s" = ejabberd ] && command -v ejabberdctl >/dev/null 2>&1; then
      as_root ejabberdctl stop >/dev/null 2>&1 || true
    fi
    for _ in $(seq 50); do running_system_service "$s" || break; sleep 0.2; done
    if running_system_service "$s"; then
      # Last resort: end the processes owned by the service's own system user, one pid at a time.
      for pid in $(pgrep -u "$s" 2>/dev/null); do as_root kill "$pid" 2>/dev/null || true; done
      sleep 1
      if running_system_service "$s"; then warn "the system $s service is still running"; fi
    fi
  fi
done

# --- Go tools, pinned, in .tools/bin --------------------------------------------------------------
# tool_version BIN: the module version a Go binary was built from ("" if absent or unreadable).
tool_version() { [ -x "$1" ] && "$GO" version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'; }

install_tool() { # install_tool NAME PACKAGE VERSION
  local bin="$TOOLS_BIN/$1" have
  have=$(tool_version "$bin" || true)
  if [ "$have" = "$3" ]; then
    say "$1 $3 already in .tools/bin"
    return 0
  fi
  say "installing $1 $3 into .tools/bin"
  mkdir -p "$TOOLS_BIN"
  GOBIN="$TOOLS_BIN" "$GO" install "$2@$3" || die "go install $2@$3 failed"
}
install_tool staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION"
install_tool fyne fyne.io/tools/cmd/fyne "$FYNE_TOOL_VERSION"

# --- Go modules of the project (no network when they are already in the module cache) ---------------
(cd "$ROOT" && "$GO" mod download) || die "go mod download failed"

echo "deps: ok (Go $HAVE_GO, staticcheck $STATICCHECK_VERSION, fyne tool $FYNE_TOOL_VERSION) in $(( $(date +%s) - START ))s"
