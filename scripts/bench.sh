#!/usr/bin/env bash
# scripts/bench.sh: runs Parley's benchmarks (`make bench`, which runs `make deps` first) and prints their
# figures, ready for docs/benchmarks.md; each benchmark's output is also kept in bin/bench/NAME.txt.
# One section per benchmark: to add one, write a bench_NAME function below and append NAME to BENCHES.
#
# Env: BENCH_ONLY="login ..."  run only these sections (default: all)
#      LOGIN_N=30               logins per client in the login benchmark
#      CONTACTS_N=7             runs per case in the contacts benchmark
#      CHAT_ROUNDS=5            timed rounds of the chat burst and catch-up benchmarks
#      CHAT_SERVER=both         servers of the chat burst and catch-up: prosody, ejabberd or both
#      MEDIA_ROUNDS=7           timed rounds of each media case
#      VOICE_ROUNDS=5           timed rounds of the quick voice cases; VOICE_SENDS=3 recordings sent
#      PYTHON=/usr/bin/python3  the Python with slixmpp (Debian's python3-slixmpp, not a pyenv one)
#      GO=go                    the go command
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.tools/bin:$PATH:/usr/local/go/bin"
GO=${GO:-go}
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=bin/bench
mkdir -p "$OUT"

command -v "$GO" >/dev/null || { echo "bench: go not found (install Go 1.26; see README)" >&2; exit 1; }

# --- benchmarks -------------------------------------------------------------------------------------

# login: login-to-online (dial, STARTTLS, SASL, bind, presence) on loopback against an isolated Prosody,
# Parley vs slixmpp vs a raw client, interleaved in one run. Goal: median < 50 ms and <= half of slixmpp.
bench_login() {
  "$GO" run ./bench/login -n "${LOGIN_N:-30}" -python "$PYTHON" -json "$OUT/login.json"
}

# contacts: a 5,000-contact roster on an isolated Prosody: login to the full list rendered in the
# contacts view (fresh profile), the list from the stored roster before the server answers, and the heap
# the list costs, rendered headless with Fyne's test driver. Goals: < 300 ms, < 100 ms, < 30 MB.
bench_contacts() {
  "$GO" run ./bench/contacts -n "${CONTACTS_N:-7}" -json "$OUT/contacts.json"
}

# chat: the chat service (app.ChatService and its SQLite history), each part side by side with its
# baseline in one run: a burst of 10,000 incoming messages through the server (MAM off) stored, against a
# raw socket reader that only counts them (goal >= 0.8 of its rate); catch-up of 10,000 archived messages
# against slixmpp paging the same archive (goal <= half its time) and against a lean client that only
# pages it (the floor); both on Prosody and on ejabberd (CHAT_SERVER); opening a chat holding 100,000
# messages (goal < 50 ms; the render part waits for the chat view); search over 1,000,000 stored
# messages (goal median < 50 ms). The 1,000,000-message history is generated once into
# bin/bench/chat-data (about a minute) and reused.
bench_chat() {
  "$GO" run ./bench/chat -rounds "${CHAT_ROUNDS:-5}" -server "${CHAT_SERVER:-both}" -python "$PYTHON" -data "$OUT/chat-data"
}

# media: files, each beside its baseline in one run: the thumbnail of a 12-megapixel photo against
# vipsthumbnail itself (goal <= 1.5 x and < 150 ms, Go's own decoder shown beside), the upload of a 9 MB
# file to an XEP-0363 slot of an isolated Prosody against curl -T (goal >= 0.9 x its throughput), and a
# 12-megapixel photo from SendFile to "sent" (goal < 1 s).
bench_media() {
  "$GO" run ./bench/media -rounds "${MEDIA_ROUNDS:-7}"
}

# voice: voice messages on a headless PulseAudio, each beside its baseline: the size of 10 s of speech
# (goal <= 40 KB) and its encoding against the ffmpeg command line (goal >= 20 x real time); a click on a
# cached clip to its first sound at the speaker against paplay (goal < 150 ms); the waveform of a
# 5-minute clip (goal < 100 ms) against ffmpeg decoding it; CPU and memory while recording 30 s against
# parec (goal < 10 % of a core, bounded); a 10 s recording from Stop to "sent" on Prosody (goal
# < 500 ms); a 5-minute clip playing in the chat view (goal: no frame over 16 ms).
bench_voice() {
  "$GO" run -tags migrated_fynedo ./bench/voice -rounds "${VOICE_ROUNDS:-5}" -sends "${VOICE_SENDS:-3}"
}

BENCHES=(login contacts chat media voice)

# --- runner -----------------------------------------------------------------------------------------

commit=$(git rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then commit="$commit (with uncommitted changes)"; fi
echo "Parley benchmarks: $(date +%F), commit $commit"
# shellcheck source=/dev/null
echo "Machine: $(nproc) cores, $(awk '/^MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), kernel $(uname -r), $("$GO" version | awk '{print $3}')"

selected=("${BENCHES[@]}")
if [ -n "${BENCH_ONLY:-}" ]; then read -r -a selected <<<"$BENCH_ONLY"; fi

failed=()
for name in "${selected[@]}"; do
  if ! declare -F "bench_$name" >/dev/null; then
    echo "bench: no benchmark named '$name' (have: ${BENCHES[*]})" >&2
    exit 2
  fi
  echo
  echo "=== $name"
  start=$(date +%s)
  if "bench_$name" | tee "$OUT/$name.txt"; then
    echo "($name took $(( $(date +%s) - start )) s; output in $OUT/$name.txt)"
  else
    failed+=("$name")
    echo "bench: $name FAILED" >&2
  fi
done

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
echo "bench: done (${selected[*]}). Paste the figures into docs/benchmarks.md with the date and commit above."
