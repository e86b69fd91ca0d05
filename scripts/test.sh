#!/usr/bin/env bash
# Runs every test of the workspace, after installing what the interop tests need (npm packages
# from their committed lock files), then runs the examples as smoke tests.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "node is required for the interop tests (apt-get install nodejs npm)" >&2; exit 1; }
for dir in interop/*/; do
  if [ -f "$dir/package-lock.json" ]; then
    echo "installing npm packages in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done

cargo test --workspace "$@"

# The README's first command, and the multi-auth example: both must finish on their own.
cargo run -q -p appsync-examples --example quickstart
cargo run -q -p appsync-examples --example multi_auth
