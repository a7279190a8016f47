#!/usr/bin/env bash
# End-to-end contract of `marginscope train`: metrics JSON keys, embeddings CSV, --save-config round trip,
# bit-identical reruns, and exit code 2 with one line and nothing written for every kind of bad input.
set -u
bin="$1"; src="${2:-.}"; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

common=(--classes 3 --samples 40 --hidden 16 --batch 32 --steps 60 --quiet)
"$bin" train "${common[@]}" --metrics "$tmp/m.json" --save-embeddings "$tmp/e.csv" --save-config "$tmp/c.json"
code=$?
check "train exits 0" '[[ $code == 0 ]]'
for key in '"step": 60' '"loss"' '"train_accuracy"' '"test_accuracy"' '"steps_per_second"' '"diverged": false' \
           '"message"' '"config"' '"angles"' '"neural_collapse"'; do
  check "metrics has $key" 'grep -q "$key" "$tmp/m.json"'
done
check "embeddings CSV header" '[[ "$(head -1 "$tmp/e.csv")" == "split,label,e1,e2" ]]'
check "embeddings CSV has every point" '[[ $(wc -l < "$tmp/e.csv") == 121 ]]'
check "no temp files left" '[[ -z "$(ls "$tmp" | grep tmp)" ]]'

# Same config and seed: bit-identical embeddings; the saved config reproduces the run.
"$bin" train "${common[@]}" --save-embeddings "$tmp/e2.csv"
check "same seed, identical embeddings" 'cmp -s "$tmp/e.csv" "$tmp/e2.csv"'
"$bin" train --config "$tmp/c.json" --quiet --save-embeddings "$tmp/e3.csv"
check "--save-config reproduces the run" 'cmp -s "$tmp/e.csv" "$tmp/e3.csv"'
"$bin" train "${common[@]}" --seed 2 --save-embeddings "$tmp/e4.csv"
check "another seed differs" '! cmp -s "$tmp/e.csv" "$tmp/e4.csv"'

# Flags after --config override it.
"$bin" train --config "$tmp/c.json" --steps 7 --quiet --metrics "$tmp/m2.json"
check "a flag overrides --config" 'grep -q "\"step\": 7" "$tmp/m2.json"'

# A run that diverges still exits 0 and says so in the JSON.
"$bin" train "${common[@]}" --loss softmax --optimizer sgd --momentum 0 --lr 1000 --metrics "$tmp/d.json"
code=$?
check "divergence exits 0" '[[ $code == 0 ]]'
check "divergence is reported" 'grep -q "\"diverged\": true" "$tmp/d.json" && grep -q "lower the learning rate" "$tmp/d.json"'

bad() {  # name, expected text in the message, args...
  local name="$1" want="$2"; shift 2
  rm -f "$tmp/bad.json"
  local err; err=$("$bin" train "$@" --metrics "$tmp/bad.json" 2>&1 >/dev/null); local code=$?
  check "$name: exit 2" '[[ $code == 2 ]]'
  check "$name: one line naming '$want'" '[[ $(printf "%s\n" "$err" | wc -l) == 1 && "$err" == *"$want"* ]]'
  check "$name: nothing written" '[[ ! -e "$tmp/bad.json" ]]'
}
bad "unknown loss" "nosuch" --loss nosuch
bad "bad number" "lr" --lr fast
bad "out of range" "2..64" --dim 65
bad "unknown param" "allowed: s, m, variant" --param q=1
bad "param out of range" "m" --param m=9
bad "unknown flag" "--frobnicate" --frobnicate 3
bad "missing fashion-mnist" "apt-get install dataset-fashion-mnist" --dataset fashion-mnist --data-dir "$tmp/none"
bad "missing csv" "cannot open" --dataset "csv:$tmp/none.csv"
bad "missing config" "cannot open" --config "$tmp/none.json"
echo '{"lr": 0.1, "colour": "red"}' > "$tmp/badcfg.json"
bad "unknown config key" "colour" --config "$tmp/badcfg.json"
bad "unwritable metrics folder" "missing" --steps 1 --save-embeddings "$tmp/no/such/dir/e.csv"

# A CSV of the user's own data.
{ echo "x1,x2,x3,label"; for i in $(seq 0 59); do echo "$i,$((i % 7)),$((i * 3 % 11)),$((i % 3))"; done; } > "$tmp/d.csv"
"$bin" train --dataset "csv:$tmp/d.csv" --steps 20 --quiet --metrics "$tmp/csv.json"
check "csv dataset trains" '[[ $? == 0 ]] && grep -q "\"input_dim\"" "$tmp/csv.json"'

# The shipped default preset trains.
"$bin" train --config "$src/assets/presets/default.json" --steps 20 --quiet --metrics "$tmp/p.json"
check "default preset trains" '[[ $? == 0 ]] && grep -q "\"loss\": \"arcface\"" "$tmp/p.json"'
exit $fail
