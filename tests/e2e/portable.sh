#!/usr/bin/env bash
# Reproducibility (README "Reproducibility"): --portable (or MS_SIMD=generic) gives bit-identical numbers
# whatever SIMD level the CPU offers (MS_SIMD caps it to emulate a smaller CPU) and whatever libm variants
# glibc would pick (GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA emulates a CPU without FMA). Compared: the
# embeddings CSV and the metrics JSON without its timing keys.
set -u
bin="$1"; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
run=(train --classes 6 --samples 150 --hidden 64,64 --loss arcface --steps 300 --seed 5 --quiet)
strip() { grep -v -e steps_per_second -e "\"seconds\"" -e gflops_per_second "$1"; }

out() {  # name, env..., -- extra args
  local name="$1"; shift
  local envs=(); while [[ $1 != -- ]]; do envs+=("$1"); shift; done; shift
  env "${envs[@]}" "$bin" "${run[@]}" "$@" --save-embeddings "$tmp/$name.csv" --metrics "$tmp/$name.json"
}
out p_generic MS_SIMD=generic -- --portable
out p_avx2 MS_SIMD=avx2 -- --portable
out p_avx512 MS_SIMD=avx512 -- --portable
out p_nofma MS_SIMD=avx512 GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4 -- --portable
out p_tunables GLIBC_TUNABLES=glibc.malloc.perturb=0 -- --portable
out env_generic MS_SIMD=generic --
for v in p_avx2 p_avx512 p_nofma p_tunables env_generic; do
  check "portable: $v == p_generic (embeddings)" 'cmp -s "$tmp/p_generic.csv" "$tmp/$v.csv"'
  check "portable: $v == p_generic (metrics)" '[[ "$(strip "$tmp/p_generic.json")" == "$(strip "$tmp/$v.json")" ]]'
done

# Without --portable the wide kernels fuse multiply-adds and the numbers differ (where the CPU has them):
# the test above would catch a --portable that did nothing.
out native --
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  check "native (AVX2/AVX-512) differs from portable on this CPU" '! cmp -s "$tmp/p_generic.csv" "$tmp/native.csv"'
fi
out native2 --
check "same seed, same machine and level: bit-identical" 'cmp -s "$tmp/native.csv" "$tmp/native2.csv"'
exit $fail
