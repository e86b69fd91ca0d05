#!/usr/bin/env bash
# Builds the cargo-fuzz targets in fuzz/ and runs each for a while (CI: 30 s each); fails on any
# crash, panic, timeout or out-of-memory. See fuzz/README.md.
# Usage: scripts/fuzz.sh [seconds per target] [target ...]   (default: 30, every target)
# Long campaigns: FUZZ_RUNS=10000000 runs that many inputs per target instead of a time limit;
# FUZZ_NO_TRACE_COMPARES=1 builds without comparison tracing (2-2.5x the runs per second on the
# slow targets, coarser guidance) into fuzz/target/no-trace-compares (or $FUZZ_TARGET_DIR).
# The committed seeds (fuzz/corpus/<target>) are read only; what libFuzzer finds goes to a
# scratch corpus (fuzz/work/<target>, ignored by git), crash inputs to fuzz/artifacts/<target>.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-30}"
shift || true

# The stable toolchain builds the instrumented targets with RUSTC_BOOTSTRAP=1 (no nightly needed).
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# Per target: the largest input worth trying (bytes).
declare -A max_len=(
  [config_gen1]=8192 [config_gen2]=8192 [realtime_frame]=4096 [realtime_actor]=1024
  [graphql_response]=4096 [operation_kind]=2048 [token]=1024 [codegen]=2048
  [local_http]=2048 [local_realtime]=2048 [local_scalars]=256
)
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

# Memory-safe Rust (`unsafe_code = "forbid"`): no sanitizer, for speed; debug assertions on,
# so that an arithmetic overflow panics.
build=(-s none --debug-assertions)
target_dir=target
if [ "${FUZZ_NO_TRACE_COMPARES:-0}" = 1 ]; then
  target_dir="${FUZZ_TARGET_DIR:-target/no-trace-compares}"
  build+=(--no-trace-compares --target-dir "$target_dir")
fi
if [ "${#targets[@]}" -eq 1 ]; then
  cargo fuzz build "${build[@]}" "${targets[0]}"
else
  cargo fuzz build "${build[@]}"
fi
bin="$target_dir/$(rustc -vV | sed -n 's/^host: //p')/release"
if [ -n "${FUZZ_RUNS:-}" ]; then
  limit="-runs=$FUZZ_RUNS"
else
  limit="-max_total_time=$seconds"
fi

# Dictionaries of the text formats' words.
declare -A dict=(
  [config_gen1]=config [config_gen2]=config [realtime_frame]=realtime [local_realtime]=realtime
  [operation_kind]=graphql [codegen]=graphql [local_http]=graphql
)

failed=()
for t in "${targets[@]}"; do
  mkdir -p "work/$t" "artifacts/$t"
  echo "== $t: ${limit#-}"
  log="work/$t.log"
  extra=()
  if [ -n "${dict[$t]:-}" ]; then
    extra+=("-dict=dict/${dict[$t]}.dict")
  fi
  if nice -n 19 "$bin/$t" "work/$t" "corpus/$t" \
      "$limit" -max_len="${max_len[$t]:-4096}" \
      -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "${extra[@]}" \
      -artifact_prefix="artifacts/$t/" >"$log" 2>&1; then
    grep -a -E '^Done|stat::number_of_executed_units|stat::average_exec_per_sec' "$log" || true
  else
    echo "!! $t failed: see fuzz/$log and fuzz/artifacts/$t/" >&2
    grep -a -E 'panicked|ERROR|SUMMARY' -A3 "$log" | head -20 >&2 || true
    failed+=("$t")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing: every target ran (${limit#-}) without a finding"
