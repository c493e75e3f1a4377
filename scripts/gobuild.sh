#!/usr/bin/env bash
# scripts/gobuild.sh OUT [PKG]: go build with the project's tags, saying what it is doing. A first
# build compiles Fyne, SQLite and the rest (a few minutes on 2 cores) and plain `go build` prints
# nothing meanwhile; this prints a line before it starts and one every 20 packages compiled (from
# `go build -v`), then the time it took. An up-to-date build prints one line.
set -euo pipefail
out=${1:?usage: gobuild.sh OUT [PKG]}
pkg=${2:-.}
tags=${TAGS:-migrated_fynedo}
# LDFLAGS (optional) go to -ldflags, e.g. "-X main.version=1.0" for a packaged build.
export PATH="$PATH:/usr/local/go/bin"
mkdir -p "$(dirname "$out")"
start=$(date +%s)
echo "build: $out (go build $pkg; the first build compiles Fyne and SQLite and takes a few minutes)"
n=0
# -v names each package as it is compiled (cached ones are not named); errors pass through.
while IFS= read -r line; do
  case $line in
    go:*|*.go:*|\#*|*" "*) echo "$line" ;;
    *) n=$((n + 1)); if [ $((n % 20)) = 0 ]; then echo "build:   $n packages compiled (now $line)"; fi ;;
  esac
done < <(go build -v -tags "$tags" ${LDFLAGS:+-ldflags "$LDFLAGS"} -o "$out" "$pkg" 2>&1; echo "rc=$?" >"$out.rc")
rc=$(sed -n 's/^rc=//p' "$out.rc"); rm -f "$out.rc"
if [ "$rc" != 0 ]; then
  echo "build: go build failed (exit $rc)" >&2
  exit "$rc"
fi
echo "build: $out ready ($n packages compiled, $(( $(date +%s) - start )) s)"
