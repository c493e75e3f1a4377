#!/usr/bin/env bash
# scripts/package.sh (`make package`): the installable artefacts, in bin/:
#   Parley.tar.xz               the `fyne package -os linux` archive (the binary, the .desktop file, the icon
#                               and a Makefile with user-install / install targets), its .desktop file given
#                               the xmpp: scheme (MimeType) and the AppStream metainfo added;
#   parley_VERSION_ARCH.deb     a Debian package: /usr/bin/parley, the .desktop file, icons at the usual
#                               sizes, the metainfo; Depends computed from the libraries the binary links
#                               (dpkg -S of each NEEDED), plus what voice messages need at run time.
# `fyne package` rewrites the FyneApp.toml of the folder it runs in (drops comments, re-indents,
# bumps Build), so it runs on a scratch copy of the sources, with the binary built here first
# (--exe: it does not build again, but it wants Go code in its folder): packaging never modifies
# a tracked file.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.tools/bin:$PATH:/usr/local/go/bin"
command -v fyne >/dev/null || { echo "package: the fyne tool is missing: run 'make deps'" >&2; exit 1; }
for t in dpkg-deb dpkg-query convert objdump; do
  command -v "$t" >/dev/null || { echo "package: '$t' is missing: run 'make deps'" >&2; exit 1; }
done

APP_ID=org.parley.desktop
VERSION=$(awk -F'"' '/^[[:space:]]*Version[[:space:]]*=/ { print $2; exit }' FyneApp.toml)
ARCH=$(dpkg --print-architecture)
DESKTOP=packaging/linux/$APP_ID.desktop
METAINFO=packaging/linux/$APP_ID.metainfo.xml

# The packaged binary says its version; bin/parley-package so `make build`'s binary stays a dev build.
LDFLAGS="-X main.version=$VERSION" bash scripts/gobuild.sh bin/parley-package
work=$(mktemp -d "${TMPDIR:-/tmp}/parley-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- the fyne tar.xz -------------------------------------------------------------------------------
mkdir -p "$work/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/src" 2>/dev/null || true
else
  tar --exclude=./bin --exclude=./.tools --exclude=./.sandbox --exclude=./.git -cf - . | tar -xf - -C "$work/src"
fi
cp bin/parley-package "$work/src/parley"
echo "package: fyne package -os linux (in a scratch folder, $work/src)"
(cd "$work/src" && fyne package -os linux --release --exe parley --name Parley --icon assets/icon.png)
# The tool has no MimeType for a URL scheme (its [CanOpen] would put "%F" into Exec) nor metainfo:
# both are added to its archive.
mkdir -p "$work/tar"
tar xJf "$work/src/Parley.tar.xz" -C "$work/tar"
top=$(ls "$work/tar")
fyne_desktop="$work/tar/$top/usr/local/share/applications/$APP_ID.desktop"
[ -f "$fyne_desktop" ] || { echo "package: the fyne archive has no $APP_ID.desktop" >&2; exit 1; }
grep -q '^MimeType=' "$fyne_desktop" || sed -i '/^Keywords=/a MimeType=x-scheme-handler/xmpp;' "$fyne_desktop"
install -Dm644 "$METAINFO" "$work/tar/$top/usr/local/share/metainfo/$APP_ID.metainfo.xml"
sed -i -e 's|^\(install:\)$|\1\n\tinstall -Dm00644 usr/local/share/metainfo/$(AppID).metainfo.xml $(DESTDIR)$(PREFIX)/share/metainfo/$(AppID).metainfo.xml|' \
  -e 's|^\(uninstall:\)$|\1\n\t-rm $(DESTDIR)$(PREFIX)/share/metainfo/$(AppID).metainfo.xml|' "$work/tar/$top/Makefile"
tar -C "$work/tar" -cJf bin/Parley.tar.xz "$top"
echo "package: bin/Parley.tar.xz ($(du -h bin/Parley.tar.xz | cut -f1))"

# --- the .deb --------------------------------------------------------------------------------------
deb="$work/deb"
install -Dm755 bin/parley-package "$deb/usr/bin/parley"
install -Dm644 "$DESKTOP" "$deb/usr/share/applications/$APP_ID.desktop"
install -Dm644 "$METAINFO" "$deb/usr/share/metainfo/$APP_ID.metainfo.xml"
for size in 16 24 32 48 64 128 256 512; do
  mkdir -p "$deb/usr/share/icons/hicolor/${size}x${size}/apps"
  convert assets/icon.png -resize "${size}x${size}" "$deb/usr/share/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done
mkdir -p "$deb/usr/share/doc/parley"
cat >"$deb/usr/share/doc/parley/copyright" <<'TXT'
Parley: a desktop instant-messaging client for XMPP, written by the Parley developers.
Its Go dependencies are listed with their versions in the binary (go version -m /usr/bin/parley).
TXT

# Depends: the package of every shared library the binary links, at least the installed version.
depends=()
ldconfig -p >"$work/ldcache"   # read from a file: awk's early exit would break a pipe under pipefail
for lib in $(objdump -p bin/parley-package | awk '$1 == "NEEDED" { print $2 }'); do
  path=$(awk -v l="$lib" '$1 == l { print $NF; exit }' "$work/ldcache")
  [ -n "$path" ] || { echo "package: cannot find $lib" >&2; exit 1; }
  pkg=$( (dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true) | awk -F: 'NR == 1 { print $1 }')
  [ -n "$pkg" ] || { echo "package: no Debian package owns $path" >&2; exit 1; }
  ver=$(dpkg-query -W -f='${Version}' "$pkg" | sed 's/-[^-]*$//')
  depends+=("$pkg (>= $ver)")
done
# Loaded at run time, not linked (so not NEEDED): GLFW opens the X11 libraries (the list is what the
# running app had mapped, /proc/PID/maps, under Xvfb) and xkbcommon under Wayland; the audio library
# opens ALSA (and PulseAudio, recommended); FFmpeg records and plays voice messages.
depends+=(libx11-6 libx11-xcb1 libxcursor1 libxi6 libxinerama1 libxrandr2 libxxf86vm1 libxkbcommon0
  libasound2 ffmpeg)
dep_line=$(printf '%s\n' "${depends[@]}" | sort -u | paste -sd, - | sed 's/,/, /g')
mkdir -p "$deb/DEBIAN"
cat >"$deb/DEBIAN/control" <<CTRL
Package: parley
Version: $VERSION
Architecture: $ARCH
Maintainer: The Parley developers <parley@invalid>
Installed-Size: $(du -sk "$deb/usr" | cut -f1)
Depends: $dep_line
Recommends: libpulse0, xclip | wl-clipboard, libvips-tools
Section: net
Priority: optional
Description: desktop instant messenger for XMPP (Jabber)
 Parley logs in to any standard XMPP server and chats with friends who use
 Conversations, Gajim, Dino or Monal: contacts with presence, text messages
 with delivery and read marks, pictures and files, voice messages recorded
 from the microphone, and a searchable history synced from the server.
CTRL
out="bin/parley_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$deb" "$out" >/dev/null
echo "package: $out ($(du -h "$out" | cut -f1)); Depends: $dep_line"
