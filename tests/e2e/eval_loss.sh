#!/usr/bin/env bash
# End-to-end test of `marginscope eval-loss` and `marginscope losses`: closed-form values, a finite-difference
# check of the gradients through the JSON path (catches transposed or misordered output), and every error case
# (exit 2, one line on stderr naming the problem, nothing on stdout).
set -u
bin="$1"; fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; s = (a < 0 ? -a : a); if (s < 1) s = 1; exit !(d <= t * s) }'; }
loss_of() { sed -E 's/^\{"loss":([^,]*),.*/\1/' <<<"$1"; }
# entry (row r, col c), 0-based, of the array stored under key k
entry() { sed -E "s/.*\"$1\":\[\[([^]]*(\],\[[^]]*)*)\]\].*/\1/" <<<"$4" | sed 's/\],\[/\n/g' | awk -F, -v r="$2" -v c="$3" 'NR == r + 1 { print $(c + 1) }'; }

# softmax of equal logits is ln K
out=$(echo '{"loss":"softmax","features":[[0,0,0],[0,0,0]],"weights":[[1,2,3],[0,1,0],[1,1,1],[2,0,0]],"labels":[0,3]}' | "$bin" eval-loss); code=$?
check "softmax eval exits 0" '[[ $code == 0 ]]'
check "softmax of equal logits is ln 4" 'close "$(loss_of "$out")" 1.3862943611198906 1e-12'
check "answer has grad_features and grad_weights" '[[ "$out" == *grad_features* && "$out" == *grad_weights* ]]'

# NormFace at a regular simplex (K = 3, d = 2) equals ln(1 + 2 e^{-3 s / 2}), s = 4
out=$(echo '{"loss":"normface","params":{"s":4},"features":[[2,0],[-0.5,0.8660254037844386]],"weights":[[1,0],[-0.5,0.8660254037844386],[-0.5,-0.8660254037844386]],"labels":[0,1]}' | "$bin" eval-loss)
check "normface at the simplex meets its bound" 'close "$(loss_of "$out")" "$(awk "BEGIN { printf \"%.17g\", log(1 + 2 * exp(-6)) }")" 1e-9'

# metric losses take no weights and answer without grad_weights
out=$(echo '{"loss":"triplet","params":{"mining":"semi-hard","m":0.5},"features":[[1,0],[0.8,0.3],[0,1],[-1,0.2]],"labels":[0,0,1,1]}' | "$bin" eval-loss); code=$?
check "triplet without weights exits 0" '[[ $code == 0 && "$out" == *grad_features* && "$out" != *grad_weights* ]]'

# finite differences through the JSON path: arcface, d = 3, K = 3
req() { echo "{\"loss\":\"arcface\",\"params\":{\"s\":5,\"m\":0.4},\"features\":[[0.3,$1,0.5],[1.0,0.2,-0.4]],\"weights\":[[0.9,0.1,0.0],[$2,0.8,0.3],[0.2,-0.7,0.6]],\"labels\":[1,2]}"; }
h=0.00001
base=$(req -1.2 -0.5 | "$bin" eval-loss)
up=$(loss_of "$(req "$(awk "BEGIN{printf \"%.17g\", -1.2+$h}")" -0.5 | "$bin" eval-loss)")
dn=$(loss_of "$(req "$(awk "BEGIN{printf \"%.17g\", -1.2-$h}")" -0.5 | "$bin" eval-loss)")
check "grad_features[0][1] matches central differences" 'close "$(entry grad_features 0 1 "$base")" "$(awk "BEGIN{printf \"%.17g\", ($up - $dn) / (2 * $h)}")" 1e-6'
up=$(loss_of "$(req -1.2 "$(awk "BEGIN{printf \"%.17g\", -0.5+$h}")" | "$bin" eval-loss)")
dn=$(loss_of "$(req -1.2 "$(awk "BEGIN{printf \"%.17g\", -0.5-$h}")" | "$bin" eval-loss)")
check "grad_weights[1][0] matches central differences" 'close "$(entry grad_weights 1 0 "$base")" "$(awk "BEGIN{printf \"%.17g\", ($up - $dn) / (2 * $h)}")" 1e-6'

# error cases: exit 2, one line on stderr that names the problem and what is allowed, nothing on stdout
bad() {  # name, request, words the message must contain
  local out err code
  out=$(echo "$2" | "$bin" eval-loss 2>/tmp/ms_eval_err.$$); code=$?
  err=$(cat /tmp/ms_eval_err.$$); rm -f /tmp/ms_eval_err.$$
  check "$1: exit 2" '[[ $code == 2 ]]'
  check "$1: nothing on stdout" '[[ -z "$out" ]]'
  check "$1: one line on stderr" '[[ $(printf "%s\n" "$err" | wc -l) == 1 ]]'
  local w
  for w in "${@:3}"; do check "$1: message names '$w'" '[[ "$err" == *"$w"* ]]'; done
}
bad "unknown loss" '{"loss":"arcfase","features":[[1,2]],"weights":[[1,0]],"labels":[0]}' arcfase arcface cosface
bad "unknown parameter" '{"loss":"arcface","params":{"margin":0.5},"features":[[1,2]],"weights":[[1,0]],"labels":[0]}' margin variant
bad "parameter out of range" '{"loss":"am-softmax","params":{"s":-3},"features":[[1,2]],"weights":[[1,0]],"labels":[0]}' "s = -3" 1000
bad "unknown choice" '{"loss":"triplet","params":{"mining":"easy"},"features":[[1,2],[2,1]],"labels":[0,1]}' easy semi-hard
bad "non-integer m" '{"loss":"sphereface","params":{"m":2.5},"features":[[1,2]],"weights":[[1,0]],"labels":[0]}' 2.5 integer
bad "weights of the wrong width" '{"loss":"arcface","features":[[1,2]],"weights":[[1,0,0]],"labels":[0]}' weights features
bad "ragged features" '{"loss":"arcface","features":[[1,2],[3]],"weights":[[1,0]],"labels":[0,0]}' "row 1"
bad "labels of the wrong length" '{"loss":"arcface","features":[[1,2],[3,4]],"weights":[[1,0]],"labels":[0]}' labels "n = 2"
bad "label out of range" '{"loss":"arcface","features":[[1,2]],"weights":[[1,0],[0,1]],"labels":[2]}' "labels[0]" "0..1"
bad "negative label" '{"loss":"contrastive","features":[[1,2],[0,1]],"labels":[0,-1]}' "labels[1]"
bad "non-finite number" '{"loss":"arcface","features":[[1,1e999]],"weights":[[1,0]],"labels":[0]}' 1e999
bad "NaN" '{"loss":"arcface","features":[[1,NaN]],"weights":[[1,0]],"labels":[0]}' JSON
bad "string for a number" '{"loss":"arcface","features":[[1,"2"]],"weights":[[1,0]],"labels":[0]}' "features[0][1]"
bad "missing weights" '{"loss":"cosface","features":[[1,2]],"labels":[0]}' weights
bad "bias of the wrong length" '{"loss":"softmax","params":{"bias":[1,2,3]},"features":[[1,2]],"weights":[[1,0],[0,1]],"labels":[0]}' bias "K = 2"
bad "sub-centre rows not a multiple of k" '{"loss":"subcenter-arcface","params":{"k":3},"features":[[1,2]],"weights":[[1,0],[0,1]],"labels":[0]}' "2 rows" "k = 3"
bad "magface u_a below l_a" '{"loss":"magface","params":{"l_a":50,"u_a":20},"features":[[1,2]],"weights":[[1,0]],"labels":[0]}' u_a l_a
bad "unknown key" '{"loss":"softmax","feature":[[1,2]],"weights":[[1,0]],"labels":[0]}' feature labels

# the catalogue
txt=$("$bin" losses); code=$?
js=$("$bin" losses --json); jcode=$?
check "losses exits 0" '[[ $code == 0 && $jcode == 0 ]]'
# every loss the catalogue names is listed in both forms, and the catalogue has at least the 26 of the contract
names=$(python3 -c 'import json,sys; print(" ".join(l["name"] for l in json.load(sys.stdin)))' <<<"$js")
check "the catalogue has 26 losses or more" '[[ $(wc -w <<<"$names") -ge 26 ]]'
for name in $names curricularface subcenter-arcface magface adaface; do
  check "losses lists $name" '[[ "$txt" == *"$name"* && "$js" == *"\"name\": \"$name\""* ]]'
done
check "losses --json gives ranges and defaults" '[[ "$js" == *"\"min\""* && "$js" == *"\"max\""* && "$js" == *"\"default\""* ]]'
err=$("$bin" losses --xml 2>&1 >/dev/null); code=$?
check "losses rejects an unknown flag" '[[ $code == 2 && "$err" == *--json* ]]'
exit $fail
