#!/usr/bin/env bash
# The app on a busy machine (issue 13): the default 10k-point scene under Xvfb, first on its own, then beside
# two busy processes (`sh -c 'while :; do :; done'`, the video call and the browser of a lecture laptop), and
# then the screenshot key pressed again and again under the same load. Prints steps/s and frame times for both
# cases against the goals, and how many presses ended in a file or a message.
#
# usage: scripts/load_test.sh [BIN] [SECONDS]     (defaults: build/marginscope, 20)
#   MS_LOAD_RUNS=N   runs of each case (default 1); the figures of every run are printed
#   MS_LOADERS=N     busy processes beside the app (default 2)
#   MS_LOAD_SHOTS=0  skip the screenshot case (for comparing settings run after run)
# Exit code 1 if a press ended in neither a file nor a message, or a report is missing; the timing goals are
# printed (PASS/MISS), not enforced: they depend on the machine, and on what else it runs.
# On a machine other sessions are using, Linux shares the CPU between sessions first (autogroup), so run it in a
# session of its own with a raised group priority (root), as the README's figures were:
#   setsid bash -c 'echo -15 > /proc/$$/autogroup && exec scripts/load_test.sh build/marginscope 20'
set -euo pipefail
BIN=${1:-build/marginscope}
SECS=${2:-20}
RUNS=${MS_LOAD_RUNS:-1}
NLOAD=${MS_LOADERS:-2}
SHOTS=${MS_LOAD_SHOTS:-1}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
tmp=$(mktemp -d)
loaders=()
stop_loaders() {
  for p in "${loaders[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${loaders[@]}"; do wait "$p" 2>/dev/null || true; done
  loaders=()
}
trap 'stop_loaders; rm -rf "$tmp"' EXIT
start_loaders() {
  for ((i = 0; i < NLOAD; i++)); do
    sh -c 'while :; do :; done' &
    loaders+=($!)
  done
}
app() {
  xvfb-run -a -s "-screen 0 1280x800x24" "$BIN" --config "$SRC/bench/presets/perf_10k.json" "$@" \
    >"$tmp/out.txt" 2>&1 || { echo "app failed ($?): $(cat "$tmp/out.txt")" >&2; exit 1; }
}

echo "nproc $(nproc), load average before: $(cut -d' ' -f1-3 /proc/loadavg), $SECS s per run"
for ((r = 1; r <= RUNS; r++)); do
  echo "run $r: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  app --quit-after "$SECS" --bench --report "$tmp/unloaded_$r.json"
  start_loaders
  app --quit-after "$SECS" --bench --report "$tmp/loaded_$r.json"
  stop_loaders
done

# Screenshots under load: a press every second; each must end in a file or in a message saying why not.
mkdir -p "$tmp/shots"
if [[ "$SHOTS" != 0 ]]; then
  start_loaders
  app --quit-after "$SECS" --screenshot-every 1 --shot-dir "$tmp/shots" --report "$tmp/shots.json"
  stop_loaders
fi
files=$(find "$tmp/shots" -name '*.png' | wc -l)

"$PY" - "$tmp" "$RUNS" "$files" <<'PY'
import json, os, sys
tmp, runs, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    return json.load(open(f"{tmp}/{name}.json"))
def row(case, r):
    ft, fa = r["frame_time_ms"], r["frame_time_ms_all"]
    return (f"{case:9s} {r['steps_per_second']:8.0f} {ft['p50']:7.1f} {ft['p99']:7.1f} {fa['max']:8.1f}"
            f"   nice worker {r['nice']['worker']}, views {r['nice']['views']}")
print("case      steps/s  p50 ms  p99 ms   max ms   (p50/p99 while training; max over the whole run)")
ok = True
for i in range(1, runs + 1):
    u, l = load(f"unloaded_{i}"), load(f"loaded_{i}")
    print(row("unloaded", u)); print(row("loaded", l))
    share = l["steps_per_second"] / max(u["steps_per_second"], 1e-9)
    checks = [("loaded/unloaded training rate >= 1/3", share >= 1 / 3, f"{share:.2f}"),
              ("unloaded p99 <= 16.7 ms", u["frame_time_ms"]["p99"] <= 16.7, u["frame_time_ms"]["p99"]),
              ("loaded p99 <= 33 ms", l["frame_time_ms"]["p99"] <= 33, l["frame_time_ms"]["p99"]),
              ("loaded max frame <= 250 ms", l["frame_time_ms_all"]["max"] <= 250, l["frame_time_ms_all"]["max"])]
    for name, good, v in checks:
        print(f"  {'PASS' if good else 'MISS'}  {name}: {v if isinstance(v, str) else f'{v:.1f}'}")
if not os.path.exists(f"{tmp}/shots.json"):
    sys.exit(0 if ok else 1)
s = load("shots")
sh = s["screenshots"]
print(f"screenshots under load: {sh['pressed']} presses -> {files} PNG files, {sh['saved']} saved, "
      f"{sh['failed']} ended in a message; max frame {s['frame_time_ms_all']['max']:.1f} ms, "
      f"{s['steps_per_second']:.0f} steps/s")
if sh["pressed"] < 1 or sh["saved"] + sh["failed"] != sh["pressed"] or files != sh["saved"]:
    print("FAIL: a press ended in neither a file nor a message", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
PY
