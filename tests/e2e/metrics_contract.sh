#!/usr/bin/env bash
# The metrics JSON is a contract shared by `train` and `render`: the same config and seed give the same
# step, accuracies and point counts from both, with every contract key present. More than 10,000 training
# points, so that an accuracy taken over the display subset instead of all points would differ.
set -u
bin="$1"
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
args=(--dataset blobs --classes 6 --samples 2500 --steps 40 --seed 5 --loss arcface --param s=16)
"$bin" train "${args[@]}" --quiet --metrics "$dir/train.json" || { echo "FAIL: train exited $?"; exit 1; }
"$bin" render "${args[@]}" --quiet --out "$dir/f.png" --width 320 --height 240 --metrics "$dir/render.json" ||
  { echo "FAIL: render exited $?"; exit 1; }
python3 - "$dir/train.json" "$dir/render.json" <<'PY'
import json, sys
t, r = (json.load(open(p)) for p in sys.argv[1:3])
fail = 0
def check(name, ok):
    global fail
    print(("ok: " if ok else "FAIL: ") + name)
    fail |= not ok
contract = ["step", "loss", "train_accuracy", "test_accuracy", "steps_per_second", "diverged", "message",
            "angles", "lemma", "verification", "neural_collapse", "bounds", "config"]
for name, j in (("train", t), ("render", r)):
    check(f"{name} has every contract key", all(k in j for k in contract))
check("more than 10,000 training points", t["train_points"] > 10000)
for k in ("step", "train_accuracy", "test_accuracy", "train_points", "test_points", "classes"):
    check(f"{k} agrees: train {t[k]} render {r[k]}", t[k] == r[k])
check("same config", t["config"] == r["config"])
sys.exit(fail)
PY
