#!/usr/bin/env bash
# Wall time of a sweep on N jobs against the same runs one after another (issue 16: on 2 cores at most 0.55
# of it). Prints the load average first: on a shared machine the figure means little unless it is low.
#   scripts/sweep_speedup.sh [build/marginscope] [jobs, default 2] [extra sweep options...]
# Default runs: 8 runs of the live network (2-D blobs, MLP 2-64-64-3, K = 10, batch 256), 3000 steps each.
set -euo pipefail
bin="${1:-build/marginscope}"; jobs="${2:-2}"; shift $(( $# >= 2 ? 2 : $# )) || true
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
runs=(--classes 10 --hidden 64,64 --batch 256 --steps 3000 --vary loss=am-softmax,enhanced-am-softmax
  --vary m=0.2,0.35 --seeds 1-2 "$@")
echo "machine: $(nproc) CPUs, physical cores $(lscpu -p=core | grep -v '^#' | sort -u | wc -l), load average $(cut -d' ' -f1-3 /proc/loadavg)"
wall() {  # out dir, jobs
  local t0 t1; t0=$(date +%s.%N)
  "$bin" sweep "${runs[@]}" --jobs "$2" --out "$1" --quiet
  t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
one=$(wall "$tmp/one" 1)
many=$(wall "$tmp/many" "$jobs")
printf 'one after another (--jobs 1): %.2f s\n' "$one"
printf '%s at once (--jobs %s):        %.2f s\n' "$jobs" "$jobs" "$many"
printf 'ratio: %.3f (goal on 2 cores: <= 0.55)\n' "$(awk -v a="$many" -v b="$one" 'BEGIN { print a / b }')"
cmp -s "$tmp/one/summary.csv" "$tmp/many/summary.csv" && echo "summaries identical: yes" || echo "summaries identical: NO"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
