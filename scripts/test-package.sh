#!/usr/bin/env bash
# scripts/test-package.sh (a step of `make test`): runs `make package`'s script and checks that it left
# every tracked file as it was (fyne package used to rewrite FyneApp.toml); that the tar.xz holds the
# binary, the .desktop file, the icon, the metainfo and its Makefile; that the .deb holds the binary,
# the .desktop file, icons at every size and the metainfo; that both .desktop files pass
# desktop-file-validate and the metainfo passes appstreamcli validate; that the .deb installs into an
# empty root with dpkg --root (the files land, the binary there runs --version) and that apt could
# install it here with every dependency resolved (apt-get --simulate: a real install into a fresh
# Debian 12 chroot needs debootstrap and a mirror, which the test machines do not have).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
fail() { echo "test-package: FAIL: $*" >&2; exit 1; }
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "test-package: not a git checkout, so tracked files cannot be compared"
  [ "${CI:-}" = true ] && fail "CI runs on a clone: a git checkout is expected"
  exit 0
fi
for t in desktop-file-validate appstreamcli dpkg dpkg-deb apt-get; do
  command -v "$t" >/dev/null || fail "'$t' is missing: run 'make deps'"
done
APP_ID=org.parley.desktop
before=$(git status --porcelain=v1 --untracked-files=no; git diff --stat HEAD -- . | md5sum)
bash scripts/package.sh
after=$(git status --porcelain=v1 --untracked-files=no; git diff --stat HEAD -- . | md5sum)
if [ "$before" != "$after" ]; then
  git status --short --untracked-files=no >&2
  fail "make package changed tracked files"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/parley-test-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The fyne archive.
list=$(tar tJf bin/Parley.tar.xz)
for want in usr/local/bin/parley "usr/local/share/applications/$APP_ID\.desktop" "usr/local/share/pixmaps/$APP_ID\.png" \
  "usr/local/share/metainfo/$APP_ID\.metainfo\.xml" Makefile; do
  grep -Eq "/$want\$" <<<"$list" || fail "bin/Parley.tar.xz has no $want"
done
mkdir -p "$work/tar"
tar xJf bin/Parley.tar.xz -C "$work/tar"
tar_desktop=$(find "$work/tar" -name "$APP_ID.desktop")
desktop-file-validate "$tar_desktop" || fail "the tar.xz's .desktop file does not validate"
grep -qx 'MimeType=x-scheme-handler/xmpp;' "$tar_desktop" || fail "the tar.xz's .desktop file does not handle xmpp: links"
grep -qx 'Exec=parley %u' "$tar_desktop" || fail "the tar.xz's .desktop file: $(grep ^Exec "$tar_desktop")"
(cd "$(dirname "$(dirname "$(dirname "$(dirname "$(dirname "$tar_desktop")")")")")" &&
  make -s install DESTDIR="$work/tar-root" PREFIX=/usr >/dev/null) || fail "the tar.xz's Makefile does not install"
[ -x "$work/tar-root/usr/bin/parley" ] && [ -f "$work/tar-root/usr/share/metainfo/$APP_ID.metainfo.xml" ] ||
  fail "the tar.xz's make install left out the binary or the metainfo"

# The .deb.
deb=$(ls bin/parley_*_"$(dpkg --print-architecture)".deb)
dpkg-deb --info "$deb" >"$work/info"
for field in Package Version Architecture Maintainer Depends Description; do
  grep -q "^ $field: " "$work/info" || fail "$deb has no $field"
done
for dep in ffmpeg libasound2 libgl1 libx11-6; do
  grep -q "^ Depends: .*\b$dep\b" "$work/info" || fail "$deb does not depend on $dep"
done
contents=$(dpkg-deb --contents "$deb" | awk '{ print $6 }')
for want in ./usr/bin/parley "./usr/share/applications/$APP_ID.desktop" "./usr/share/metainfo/$APP_ID.metainfo.xml"; do
  grep -qx "$want" <<<"$contents" || fail "$deb has no $want"
done
for size in 16 32 48 64 128 256 512; do
  grep -qx "./usr/share/icons/hicolor/${size}x${size}/apps/$APP_ID.png" <<<"$contents" || fail "$deb has no ${size}px icon"
done
dpkg-deb -x "$deb" "$work/x"
desktop-file-validate "$work/x/usr/share/applications/$APP_ID.desktop" || fail "the .deb's .desktop file does not validate"
appstreamcli validate --no-net --pedantic "$work/x/usr/share/metainfo/$APP_ID.metainfo.xml" >"$work/as.log" 2>&1 ||
  { cat "$work/as.log" >&2; fail "the metainfo does not validate"; }

# dpkg --root: an empty root with its own dpkg database (dependencies are the host's, hence
# --force-depends); the files land where the package says and the binary runs.
mkdir -p "$work/root/var/lib/dpkg/info" "$work/root/var/lib/dpkg/updates"
touch "$work/root/var/lib/dpkg/status"
force=(--force-depends)
[ "$(id -u)" = 0 ] || force+=(--force-not-root --force-bad-path)
dpkg --root="$work/root" "${force[@]}" -i "$deb" >"$work/dpkg.log" 2>&1 ||
  { cat "$work/dpkg.log" >&2; fail "dpkg --root could not install $deb"; }
dpkg --root="$work/root" -L parley | grep -qx /usr/bin/parley || fail "dpkg --root does not list /usr/bin/parley"
version=$("$work/root/usr/bin/parley" --version) || fail "the installed binary does not run"
want_version=$(awk -F'"' '/^[[:space:]]*Version[[:space:]]*=/ { print $2; exit }' FyneApp.toml)
[ "$version" = "Parley $want_version" ] || fail "parley --version printed '$version', want 'Parley $want_version'"

# apt could install it here: every dependency resolves (simulated: nothing is changed).
sim=(apt-get install --simulate --no-install-recommends)
[ "$(id -u)" = 0 ] || sim+=(-o Debug::NoLocking=1)
"${sim[@]}" "./$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt cannot install $deb here"; }
grep -q '^Inst parley ' "$work/apt.log" || { cat "$work/apt.log" >&2; fail "apt would not install parley"; }

echo "test-package: ok (tracked files unchanged; tar.xz and .deb complete, .desktop and metainfo valid; the .deb installs with dpkg --root, its binary runs ($version), and apt resolves its dependencies)"
