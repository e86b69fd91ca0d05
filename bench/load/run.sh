#!/usr/bin/env bash
# The load bench in one command: installs what it needs, tests the stub's SigV4 verifier, builds the clients, runs the rounds, writes the figures and the chart.
#
# Usage: bench/load/run.sh [--smoke] [harness options, see `load --help`]
#   (nothing)  5 interleaved rounds + callgrind (about 15 minutes on 2 cores); writes
#              bench/load/results/{results.json,table.md,ratios.svg} and the figure blocks
#              in bench/README.md and README.md
#   --smoke    tiny counts, one round, no callgrind, a dev build, results in a temp dir: the
#              CI check that the harness still works
# Needs: node (20) and npm, cargo; valgrind for the instruction counts (installed from Debian
# when missing and possible, else skipped with a warning).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

smoke=0
docs=1
callgrind=1
for a in "$@"; do
  case "$a" in
    --smoke) smoke=1; docs=0; callgrind=0 ;;
    --out|--phases|--from) docs=0 ;;
    --no-callgrind) callgrind=0 ;;
  esac
done

command -v node >/dev/null || { echo "node is required (apt-get install nodejs npm)" >&2; exit 1; }

# npm packages from the committed lock; skipped when this exact lock is already installed.
lock_sum="$(sha256sum bench/load/package-lock.json | cut -d' ' -f1)"
stamp=bench/load/node_modules/.installed-lock-sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  echo "installing npm packages in bench/load (npm ci)" >&2
  npm ci --prefix bench/load --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
fi

# The stub verifies SigV4 for real; prove the verifier first (AWS vectors, requests signed by
# appsync-rs and by Amplify JS).
node --test bench/load/sigv4.test.mjs > /dev/null 2>&1 || {
  node --test bench/load/sigv4.test.mjs >&2 || true
  echo "the stub's SigV4 verifier fails its tests" >&2
  exit 1
}

args=("$@")
if [ "$callgrind" = 1 ] && ! command -v valgrind >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing valgrind (apt-get)" >&2
    apt-get install -y -qq valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; } || true
  fi
  command -v valgrind >/dev/null || { echo "warning: no valgrind, instruction counts skipped" >&2; args+=(--no-callgrind); }
fi
[ "$docs" = 1 ] && args+=(--write-docs)

if [ "$smoke" = 1 ]; then
  cargo build -q -p appsync-bench --bin load --bin load_appsync --bin load_raw
  bin="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')/debug"
else
  cargo build -q --release -p appsync-bench --bin load --bin load_appsync --bin load_raw
  bin="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')/release"
fi
LOAD_RUSTC="$(rustc --version)" exec "$bin/load" --root "$root" "${args[@]+"${args[@]}"}"
