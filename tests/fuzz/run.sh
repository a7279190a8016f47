#!/usr/bin/env bash
# Builds the fuzz targets (build-fuzz/, clang, libFuzzer, ASan+UBSan) and runs each for a bounded time,
# two at a time, each from its seed corpus (tests/fuzz/corpus/TARGET, read only) plus what earlier runs found
# (build-fuzz/corpus/TARGET). Prints the executions per target; exits 1 on any crash, sanitizer report,
# timeout or broken contract, naming the reproducer (build-fuzz/artifacts/TARGET-crash-...).
#   tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 s, all five targets
# MS_FUZZ_JOBS=N runs N targets at a time (default 2). See README "Fuzzing".
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_csv fuzz_idx fuzz_config fuzz_eval_loss fuzz_npy)
jobs="${MS_FUZZ_JOBS:-2}"
declare -A maxlen=([fuzz_csv]=4096 [fuzz_idx]=8192 [fuzz_config]=4096 [fuzz_eval_loss]=2048 [fuzz_npy]=4096)

cmake -S . -B build-fuzz -DMS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMS_BUILD_TESTS=OFF -DMS_BUILD_BENCH=OFF > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]}"
mkdir -p build-fuzz/artifacts

run_one() {  # target: fuzz it for $secs seconds, log in build-fuzz/TARGET.log
  local t="$1"
  mkdir -p "build-fuzz/corpus/$t"
  "build-fuzz/$t" -max_total_time="$secs" -max_len="${maxlen[$t]:-4096}" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" \
    "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" > "build-fuzz/$t.log" 2>&1
}

failed=0
report() {  # target exit-code
  local t="$1" rc="$2" runs
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "build-fuzz/$t.log" | grep -o '[0-9]*$' || true)
  if [[ "$rc" == 0 ]]; then
    echo "fuzz: $t: ${runs:-?} executions in ${secs} s, no finding"
  else
    failed=1
    echo "fuzz: $t: FAILED (exit $rc) after ${runs:-?} executions; log build-fuzz/$t.log, tail:"
    grep -E 'ERROR|SUMMARY|fuzz:|Test unit written|runtime error' "build-fuzz/$t.log" | tail -n 15 || true
  fi
}

pids=() names=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!) names+=("$t")
  if ((${#pids[@]} >= jobs)); then
    rc=0; wait "${pids[0]}" || rc=$?
    report "${names[0]}" "$rc"
    pids=("${pids[@]:1}") names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  rc=0; wait "${pids[$i]}" || rc=$?
  report "${names[$i]}" "$rc"
done
exit "$failed"
