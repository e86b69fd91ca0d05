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

# The `cognito` tests run moto's server and pycognito (PyPI, pinned in interop/moto/requirements.txt)
# from a venv; the tests install it themselves when it is missing, this does it once up front.
command -v python3 >/dev/null || { echo "python3 (with venv) is required for the cognito tests" >&2; exit 1; }
if [ ! -x interop/moto/.venv/bin/moto_server ] || [ interop/moto/requirements.txt -nt interop/moto/.venv/.installed ]; then
  echo "installing interop/moto/requirements.txt into interop/moto/.venv"
  # Debian's python3 lacks venv (ensurepip) until python3-venv is installed.
  if ! python3 -m venv interop/moto/.venv >/dev/null 2>&1; then
    echo "installing python3-venv"
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    rm -rf interop/moto/.venv
    python3 -m venv interop/moto/.venv
  fi
  interop/moto/.venv/bin/pip install -q -r interop/moto/requirements.txt
  touch interop/moto/.venv/.installed
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace "$@" 2>&1 | tee "$log"
# The client's optional features (the workspace build already turns on `cognito` through the
# examples): the Cognito session file store and the AWS credentials chain; then the client
# alone with its default features, as a user without them builds it.
cargo test -p appsync-client --all-features "$@" 2>&1 | tee -a "$log"
cargo test -p appsync-client "$@" 2>&1 | tee -a "$log"

# The README's first command and the other examples: each must finish on its own.
cargo run -q -p appsync-examples --example quickstart
cargo run -q -p appsync-examples --example multi_auth
cargo run -q -p appsync-examples --example typed
cargo run -q -p appsync-examples --example identity
cargo run -q -p appsync-examples --example events_chat

# One closing line for every test binary together (cargo prints one summary per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
