#!/usr/bin/env bash
# The 22 original losses are bit-identical to the release that first verified them: a fixed set of eval-loss
# requests (every loss, every choice and boolean variant, m = 1..5 for the psi losses, parameters moved inside
# their ranges; d = 2 and 3) must give exactly the answers recorded in golden/eval_loss_expected.jsonl, to the
# last digit of the shortest round-trip decimal. Regenerate only when a change of value is intended and said.
set -u
bin="$1"; dir="$(dirname "$0")/golden"
paste -d '\n' "$dir/eval_loss_requests.jsonl" "$dir/eval_loss_expected.jsonl" | python3 -c '
import subprocess, sys
lines = sys.stdin.read().split("\n")
bad = total = 0
for req, want in zip(lines[0::2], lines[1::2]):
    if not req: continue
    total += 1
    got = subprocess.run([sys.argv[1], "eval-loss"], input=req, capture_output=True, text=True).stdout.strip()
    if got != want.strip():
        bad += 1
        if bad <= 5: print("FAIL: answer differs for", req[:100], "\n  want", want[:120], "\n  got ", got[:120])
print(f"{total - bad} passed, {bad} failed")
sys.exit(1 if bad or total == 0 else 0)
' "$bin"
