#!/usr/bin/env bash
# Nothing crashes on input (issue 13): values nested 100,000+ deep, a folder where a file belongs, numbers
# too large for their field, an image too large for memory, requests too large for a loss. Each is one line
# on stderr naming the key and what is allowed, with exit code 2 (never a signal, never exit 1), and no
# output file appears. All of it is checked before training or any GL, so it needs no display.
set -u
bin="$1"; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

expect2() {  # name, wanted text, command... : exit 2, one line holding the text, no output written
  local name="$1" want="$2"; shift 2
  rm -f "$tmp/out.json" "$tmp/out.png"
  local err; err=$("$@" 2>&1 >/dev/null); local code=$?
  check "$name: exit 2 (got $code)" '[[ $code == 2 ]]'
  check "$name: one line naming '$want'" '[[ $(printf "%s\n" "$err" | wc -l) == 1 && "$err" == *"$want"* ]]'
  check "$name: short (${#err} chars)" '[[ ${#err} -lt 400 ]]'
  check "$name: nothing written" '[[ ! -e "$tmp/out.json" && ! -e "$tmp/out.png" ]]'
}

# ---- nesting: the message used to serialise the value recursively and overflow the stack (SIGSEGV)
python3 -c "print('{\"lr\":'+'['*200000+']'*200000+'}')" > "$tmp/deep.json"
expect2 "train --config nested 200,000 deep" "nested more than 16 levels" \
  "$bin" train --config "$tmp/deep.json" --metrics "$tmp/out.json"
expect2 "render --config nested 200,000 deep" "nested more than 16 levels" \
  "$bin" render --config "$tmp/deep.json" --out "$tmp/out.png"
expect2 "GUI --config nested 200,000 deep" "nested more than 16 levels" \
  env -u DISPLAY -u WAYLAND_DISPLAY "$bin" --config "$tmp/deep.json"
python3 -c "print('{\"loss\":\"softmax\",\"features\":'+'['*100000+']'*100000+',\"labels\":[0]}')" > "$tmp/req.json"
expect2 "eval-loss features nested 100,000 deep" "nested more than 8 levels" \
  sh -c '"$0" eval-loss < "$1"' "$bin" "$tmp/req.json"
python3 -c "print('{\"loss\":\"softmax\",\"features\":[[1,2]],\"weights\":[[1,0],[0,1]],\"labels\":[0],\"params\":{\"bias\":'+'['*30+'1'+']'*30+'}}')" > "$tmp/req2.json"
expect2 "eval-loss nested param" "nested more than 8 levels" sh -c '"$0" eval-loss < "$1"' "$bin" "$tmp/req2.json"

# ---- a folder where a file belongs (was basic_filebuf::underflow, exit 1)
mkdir "$tmp/adir"
expect2 "train --config FOLDER" "is a folder" "$bin" train --config "$tmp/adir" --metrics "$tmp/out.json"
expect2 "GUI --config FOLDER" "is a folder" env -u DISPLAY -u WAYLAND_DISPLAY "$bin" --config "$tmp/adir"
expect2 "train --metrics FOLDER names the key" "--metrics: cannot write" \
  "$bin" train --steps 1 --metrics "$tmp/adir"

# ---- numbers too large for their field: out of range, with the range
expect2 "--seed beyond 2^64" "seed: 99999999999999999999 is out of range (allowed: whole numbers 0..18446744073709551615" \
  "$bin" train --seed 99999999999999999999 --metrics "$tmp/out.json"
expect2 "--hidden beyond int" "hidden: 99999999999999 is out of range (hidden widths 1..4096" \
  "$bin" train --hidden 99999999999999 --metrics "$tmp/out.json"
expect2 "--steps 1e18" "steps: 1000000000000000000 is out of range (training steps (0..1e9))" \
  "$bin" train --steps 1e18 --metrics "$tmp/out.json"
expect2 "--classes 3e9" "classes: 3000000000 is out of range" "$bin" train --classes 3e9 --metrics "$tmp/out.json"
expect2 "a 100,000-character --dataset" "at most 4096" \
  "$bin" train --dataset "$(head -c 100000 /dev/zero | tr '\0' x)" --metrics "$tmp/out.json"

# ---- render: the view needs d = 2 or 3; the image must fit in memory (was std::bad_alloc, exit 1)
expect2 "render --dim 4 names the fix" "--view circle needs d = 2 or 3" \
  "$bin" render --dim 4 --out "$tmp/out.png"
expect2 "render --dim 4 --view sphere" "--dim 3 for sphere" "$bin" render --dim 4 --view sphere --out "$tmp/out.png"
expect2 "render 16384 x 16384 at scale 8" "allowed: up to 536 megapixels" \
  "$bin" render --width 16384 --height 16384 --scale 8 --out "$tmp/out.png"

# A machine without Mesa's EGL is its setup, not a bug (was "internal error", exit 1).
expect2 "render without EGL" "render: no headless OpenGL 3.3 context" \
  env __EGL_VENDOR_LIBRARY_FILENAMES=/nonexistent.json "$bin" render --steps 1 --out "$tmp/out.png"

# ---- eval-loss: pair and triplet losses compare every pair (n x n) or triplet (n^3)
python3 -c "
import json; n=5000
print(json.dumps({'loss':'triplet','features':[[1.0,0.0]]*n,'labels':[i%3 for i in range(n)]}))" > "$tmp/big.json"
expect2 "eval-loss triplet with n = 5000" "allowed: n up to 1024" sh -c '"$0" eval-loss < "$1"' "$bin" "$tmp/big.json"

exit $fail
