#!/usr/bin/env bash
# End-to-end contract of `marginscope sweep` (issue 16): the in-process sweep on 2 jobs, the same runs as the
# emitted `marginscope train` commands through GNU parallel and then --collect, with the same summary bytes
# and the same metrics JSON (timing keys aside); resume skips finished runs; Ctrl-C keeps finished runs and
# leaves no temporary file; bad input exits 2 with one line naming the key and nothing written.
set -u
bin="$1"; src="${2:-.}"; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

net=(--classes 3 --samples 40 --hidden 16 --batch 32)
small=("${net[@]}" --steps 60)
vary=(--vary loss=am-softmax,enhanced-am-softmax --vary m=0.2,0.35 --seeds 1-3)

# 1. In process, two runs at a time.
"$bin" sweep "${small[@]}" "${vary[@]}" --jobs 2 --out "$tmp/a" --quiet
code=$?
check "sweep exits 0" '[[ $code == 0 ]]'
check "12 run files" '[[ $(ls "$tmp/a"/*seed=*.json | wc -l) == 12 ]]'
check "file names carry the values" '[[ -f "$tmp/a/loss=enhanced-am-softmax,m=0.35,seed=3.json" ]]'
check "summary CSV: header and 4 configurations" \
  '[[ "$(head -1 "$tmp/a/summary.csv")" == loss,m,runs,test_accuracy_n,* && $(wc -l < "$tmp/a/summary.csv") == 5 ]]'
check "summary CSV: 3 runs each" '[[ $(cut -d, -f3 "$tmp/a/summary.csv" | sort -u | head -1) == 3 ]]'
check "summary Markdown has the table" 'grep -q "| am-softmax | 0.2 | 3 |" "$tmp/a/summary.md"'
check "summary PNG" '[[ "$(head -c 8 "$tmp/a/summary.png" | od -An -tx1 | tr -d " \n")" == 89504e470d0a1a0a ]]'

# 2. The same runs as commands through GNU parallel, then --collect.
"$bin" sweep "${small[@]}" "${vary[@]}" --out "$tmp/b" --emit-commands > "$tmp/manifest.txt"
check "emit-commands: one line per run" '[[ $(wc -l < "$tmp/manifest.txt") == 12 ]]'
check "emit-commands trains nothing" '[[ ! -e "$tmp/b" ]]'
check "emit-commands: train commands with their output" \
  'grep -q " train --loss am-softmax .*--seed 2 .*--param m=0.2 --metrics .*/b/loss=am-softmax,m=0.2,seed=2.json --quiet$" "$tmp/manifest.txt"'
if command -v parallel > /dev/null; then
  parallel --will-cite --jobs 2 --joblog "$tmp/joblog" < "$tmp/manifest.txt"
  check "parallel ran every line" '[[ $? == 0 && $(tail -n +2 "$tmp/joblog" | awk "\$7 == 0" | wc -l) == 12 ]]'
else
  echo "FAIL: GNU parallel is not installed (scripts/setup.sh installs it)"; fail=1
  bash "$tmp/manifest.txt"
fi
"$bin" sweep --collect "$tmp/b" --quiet
code=$?
check "collect exits 0" '[[ $code == 0 ]]'
check "collected summary.csv is byte-identical to the in-process one" 'cmp -s "$tmp/a/summary.csv" "$tmp/b/summary.csv"'
check "collected summary.md is byte-identical too" 'cmp -s "$tmp/a/summary.md" "$tmp/b/summary.md"'
same_json=$(python3 - "$tmp/a" "$tmp/b" <<'EOF'
import json, os, sys
a, b = sys.argv[1], sys.argv[2]
names = sorted(n for n in os.listdir(a) if n.endswith(".json"))
bad = 0
for n in names:
    ja, jb = (json.load(open(os.path.join(d, n))) for d in (a, b))
    for j in (ja, jb):
        for k in ("steps_per_second", "seconds", "gflops_per_second"): j.pop(k, None)
    bad += ja != jb
print(len(names) if bad == 0 else -bad)
EOF
)
check "every run's JSON equals train's (timing aside)" '[[ "$same_json" == 12 ]]'

# 3. Resume: nothing is trained again; the files are untouched.
sums=$(md5sum "$tmp/a"/*seed=*.json)
err=$("$bin" sweep "${small[@]}" "${vary[@]}" --jobs 2 --out "$tmp/a" 2>&1 >/dev/null)
check "re-run says all 12 are done" '[[ "$err" == *"12 done already"* ]]'
check "re-run leaves the run files as they were" '[[ "$(md5sum "$tmp/a"/*seed=*.json)" == "$sums" ]]'
# A changed option (here --steps) is another config: the runs are trained again.
err=$("$bin" sweep "${net[@]}" --steps 61 "${vary[@]}" --jobs 2 --out "$tmp/a" 2>&1 >/dev/null)
check "another config is re-run" '[[ "$err" == *"0 done already, 12 re-run"* ]] && grep -q "\"step\": 61" "$tmp/a/loss=am-softmax,m=0.2,seed=1.json"'

# 4. Ctrl-C: finished runs stay, nothing half-written, the same command resumes.
long=("${net[@]}" --steps 20000 --vary lr=0.01,0.02,0.03,0.04,0.05,0.06 --seeds 1-4 --jobs 2 --out "$tmp/c")
set -m  # job control: a background job gets SIGINT as from a terminal (bash ignores it otherwise)
"$bin" sweep "${long[@]}" --quiet &
pid=$!
for _ in $(seq 1 600); do (( $(ls "$tmp/c"/*.json 2> /dev/null | wc -l) >= 2 )) && break; sleep 0.1; done
kill -INT "$pid"; wait "$pid"; code=$?
kept=$(ls "$tmp/c"/*.json 2> /dev/null | wc -l)
check "interrupted sweep exits 130" '[[ $code == 130 ]]'
check "finished runs are kept ($kept) and not all 24 ran" '(( kept >= 2 && kept < 24 ))'
check "no temporary or partial files" '[[ -z "$(ls -A "$tmp/c" | grep -v "^lr=.*,seed=[0-9]*\.json$")" ]]'
check "kept files are whole JSON" \
  'python3 -c "import json,glob,sys; [json.load(open(f)) for f in glob.glob(sys.argv[1]+\"/*.json\")]" "$tmp/c"'
"$bin" sweep "${long[@]}" 2> "$tmp/c.err" > /dev/null &
pid=$!
for _ in $(seq 1 100); do grep -q "done already" "$tmp/c.err" && break; sleep 0.1; done
kill -INT "$pid"; wait "$pid"
set +m
check "the same command resumes: $kept done already" \
  'grep -q "24 runs (6 configurations x 4 seeds), $kept done already" "$tmp/c.err"'

# 5. Bad input: exit 2, one line naming the key and value, nothing written.
touch "$tmp/afile"
bad() {  # name, expected text, args...
  local name="$1" want="$2"; shift 2
  rm -rf "$tmp/bad"
  local err; err=$("$bin" sweep "$@" 2>&1 >/dev/null); local code=$?
  check "$name: exit 2" '[[ $code == 2 ]]'
  check "$name: one line naming '$want'" '[[ $(printf "%s\n" "$err" | wc -l) == 1 && "$err" == *"$want"* ]]'
  check "$name: nothing written" '[[ ! -e "$tmp/bad" ]]'
}
bad "unknown --vary key" "--vary colour: unknown key" --vary colour=red --out "$tmp/bad"
bad "a parameter no loss has" "--vary q: unknown key" --vary loss=arcface --vary q=1,2 --out "$tmp/bad"
bad "bad --vary value" "'fast' is not a number" --vary lr=0.1,fast --out "$tmp/bad"
bad "empty --vary list" "--vary m: empty list" --vary m= --out "$tmp/bad"
bad "no = in --vary" "is not KEY=V1,V2" --vary loss --out "$tmp/bad"
bad "reversed seed range" "--seeds: '5-1' is an empty range" --seeds 5-1 --out "$tmp/bad"
bad "bad seed" "--seeds: 'x' is not a seed list" --seeds x --out "$tmp/bad"
bad "--jobs 0" "--jobs: 0 is out of range (allowed: 1..1024" --jobs 0 --out "$tmp/bad"
bad "--out is a file" "--out: '$tmp/afile' is a file" --out "$tmp/afile"
bad "no --out" "--out: missing" --vary m=0.1
bad "--collect a missing folder" "--collect: $tmp/bad is not a folder" --collect "$tmp/bad"
mkdir -p "$tmp/notruns" && echo '{"a": 1}' > "$tmp/notruns/x.json"
bad "--collect a foreign JSON" "x.json is not a run's metrics JSON" --collect "$tmp/notruns"
check "--collect a foreign JSON: no summary" '[[ ! -e "$tmp/notruns/summary.csv" ]]'
bad "--collect with --vary" "--collect: --vary is not used" --collect "$tmp/b" --vary m=1
exit $fail
