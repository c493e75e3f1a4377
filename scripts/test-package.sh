#!/usr/bin/env bash
# scripts/test-package.sh (a step of `make test`): runs `make package`'s script and checks that it
# left every tracked file as it was (fyne package used to rewrite FyneApp.toml) and that the archive
# holds the binary, the .desktop file and the icon.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
fail() { echo "test-package: FAIL: $*" >&2; exit 1; }
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "test-package: not a git checkout, so tracked files cannot be compared"
  [ "${CI:-}" = true ] && fail "CI runs on a clone: a git checkout is expected"
  exit 0
fi
before=$(git status --porcelain=v1 --untracked-files=no; git diff --stat HEAD -- . | md5sum)
bash scripts/package.sh
after=$(git status --porcelain=v1 --untracked-files=no; git diff --stat HEAD -- . | md5sum)
if [ "$before" != "$after" ]; then
  git status --short --untracked-files=no >&2
  fail "make package changed tracked files"
fi
list=$(tar tJf bin/Parley.tar.xz)
for want in usr/local/bin/parley 'usr/local/share/applications/.*\.desktop' 'usr/local/share/pixmaps/.*\.png' Makefile; do
  grep -Eq "/$want\$" <<<"$list" || fail "bin/Parley.tar.xz has no $want"
done
echo "test-package: ok (tracked files unchanged; archive has the binary, .desktop file and icon)"
