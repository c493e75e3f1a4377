#!/usr/bin/env bash
# scripts/package.sh (`make package`): bin/Parley.tar.xz, the `fyne package -os linux` archive (the
# binary, a .desktop file, the icon and a Makefile with user-install / install targets).
# `fyne package` rewrites the FyneApp.toml of the folder it runs in (drops comments, re-indents,
# bumps Build), so it runs on a scratch copy of the sources, with the binary built here first
# (--exe: it does not build again, but it wants Go code in its folder): packaging never modifies
# a tracked file.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.tools/bin:$PATH:/usr/local/go/bin"
command -v fyne >/dev/null || { echo "package: the fyne tool is missing: run 'make deps'" >&2; exit 1; }

bash scripts/gobuild.sh bin/parley
work=$(mktemp -d "${TMPDIR:-/tmp}/parley-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work" 2>/dev/null || true
else
  tar --exclude=./bin --exclude=./.tools --exclude=./.sandbox --exclude=./.git -cf - . | tar -xf - -C "$work"
fi
cp bin/parley "$work/parley"
echo "package: fyne package -os linux (in a scratch folder, $work)"
(cd "$work" && fyne package -os linux --release --exe parley --name Parley --icon assets/icon.png)
mv -f "$work/Parley.tar.xz" bin/Parley.tar.xz
echo "package: bin/Parley.tar.xz ($(du -h bin/Parley.tar.xz | cut -f1))"
