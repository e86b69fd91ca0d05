#!/usr/bin/env bash
# Runs every test of the workspace, after installing what the interop tests need (npm packages
# from their committed lock files), then runs the examples as smoke tests and prints the totals.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "node is required for the interop tests (apt-get install nodejs npm)" >&2; exit 1; }
# The CLI's terminal test (cli/tests/terminal.rs) drives tmux; it never skips, so install it.
if ! command -v tmux >/dev/null; then
  echo "installing tmux for the CLI's terminal test"
  apt-get update -qq && apt-get install -y -qq tmux >/dev/null
fi
for dir in interop/*/; do
  if [ -f "$dir/package-lock.json" ]; then
    echo "installing npm packages in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace "$@" 2>&1 | tee "$log"

# The README's first command and the other examples: each must finish on its own.
cargo run -q -p appsync-examples --example quickstart
cargo run -q -p appsync-examples --example multi_auth
cargo run -q -p appsync-examples --example typed

# One closing line for every test binary together (cargo prints one summary per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
