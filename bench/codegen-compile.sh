#!/usr/bin/env bash
# Compile time of generated operations, side by side: appsync-codegen (build.rs) against
# graphql_client's derive, for the same N operations (default 200) on the same generated schema
# (1,000 object types). Writes two throwaway crates under target/codegen-compile/, warms their
# dependencies, then times a rebuild of each crate alone (`cargo clean -p` first, so ours pays
# for its build script too). Uses hyperfine when installed, else the median of RUNS timed runs
# (interleaved). Both crates derive the same traits (Debug, Clone, PartialEq and serde's).
#
#   bench/codegen-compile.sh [OPERATIONS] [TYPES]      (RUNS=5 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OPS=${1:-200}
TYPES=${2:-1000}
RUNS=${RUNS:-5}
DIR=$ROOT/target/codegen-compile
rm -rf "$DIR"
mkdir -p "$DIR/ours/src" "$DIR/derive/src"

cargo run -q -p appsync-codegen --example large_schema -- "$DIR/input" "$TYPES" "$OPS"
# graphql_client needs the scalars and directives declared in the schema.
cat "$ROOT/types/src/aws-prelude.graphql" "$DIR/input/schema.graphql" > "$DIR/input/schema-with-prelude.graphql"
cp "$ROOT/Cargo.lock" "$DIR/Cargo.lock"

cat > "$DIR/Cargo.toml" <<TOML
[workspace]
resolver = "2"
members = ["ours", "derive"]

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false
TOML

cat > "$DIR/ours/Cargo.toml" <<TOML
[package]
name = "ours"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
appsync-client = { path = "$ROOT/client" }

[build-dependencies]
appsync-codegen = { path = "$ROOT/codegen" }
TOML
cat > "$DIR/ours/build.rs" <<'RS'
fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("ops.rs");
    appsync_codegen::Builder::new()
        .schema("../input/schema.graphql")
        .operations("../input/operations")
        .default_auth_mode(appsync_codegen::AuthMode::ApiKey)
        .generate(out)
        .unwrap_or_else(|e| e.fail_build());
}
RS
cat > "$DIR/ours/src/lib.rs" <<'RS'
appsync_client::include_operations!(pub mod ops, "ops.rs");
RS

cat > "$DIR/derive/Cargo.toml" <<TOML
[package]
name = "derive"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
graphql_client = "0.16"
serde = { version = "1", features = ["derive"] }
serde_json = "1"
TOML
{
  echo '#![allow(clippy::all, dead_code, non_camel_case_types)]'
  echo 'use graphql_client::GraphQLQuery;'
  for s in AWSDate AWSTime AWSDateTime AWSEmail AWSURL AWSPhone AWSIPAddress; do
    echo "type $s = String;"
  done
  echo 'type AWSTimestamp = i64;'
  echo 'type AWSJSON = serde_json::Value;'
  for f in "$DIR"/input/operations/*.graphql; do
    name=$(sed -n 's/^\(query\|mutation\|subscription\) \([A-Za-z0-9_]*\).*/\2/p' "$f" | head -1)
    cat <<RS
#[derive(GraphQLQuery)]
#[graphql(schema_path = "../input/schema-with-prelude.graphql", query_path = "../input/operations/$(basename "$f")", response_derives = "Debug, Clone, PartialEq", variables_derives = "Debug, Clone, PartialEq")]
pub struct $name;
RS
  done
} > "$DIR/derive/src/lib.rs"

export CARGO_TARGET_DIR=$DIR/target
echo "warming dependencies..."
cargo build -q --manifest-path "$DIR/Cargo.toml" -p ours -p derive

build_time() { # package -> seconds for a rebuild of that crate alone
  cargo clean -q --manifest-path "$DIR/Cargo.toml" -p "$1"
  local t0 t1
  t0=$(date +%s.%N)
  cargo build -q --manifest-path "$DIR/Cargo.toml" -p "$1"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

if command -v hyperfine >/dev/null; then
  hyperfine -r "$RUNS" -w 1 --export-json "$DIR/times.json" \
    --prepare "cargo clean -q --manifest-path $DIR/Cargo.toml -p ours" \
    -n ours "cargo build -q --manifest-path $DIR/Cargo.toml -p ours" \
    --prepare "cargo clean -q --manifest-path $DIR/Cargo.toml -p derive" \
    -n derive "cargo build -q --manifest-path $DIR/Cargo.toml -p derive" >&2
  ours=$(python3 -c "import json; print(json.load(open('$DIR/times.json'))['results'][0]['median'])")
  derive=$(python3 -c "import json; print(json.load(open('$DIR/times.json'))['results'][1]['median'])")
else
  # Interleaved, so that other load on the machine weighs on both alike.
  ours_t=() derive_t=()
  for i in $(seq "$RUNS"); do
    ours_t+=("$(build_time ours)")
    derive_t+=("$(build_time derive)")
    echo "  run $i: ours ${ours_t[-1]} s, graphql_client ${derive_t[-1]} s" >&2
  done
  ours=$(printf '%s\n' "${ours_t[@]}" | median)
  derive=$(printf '%s\n' "${derive_t[@]}" | median)
fi

printf '%s operations on %s types, dev profile, median of %s runs:\n' "$OPS" "$TYPES" "$RUNS"
printf '  appsync-codegen (build.rs + compile): %6.2f s\n' "$ours"
printf '  graphql_client derive:                %6.2f s\n' "$derive"
printf '  ratio (ours / graphql_client):        %6.2f\n' "$(awk -v a="$ours" -v b="$derive" 'BEGIN {print a / b}')"
