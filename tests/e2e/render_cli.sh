#!/usr/bin/env bash
# End-to-end test of `marginscope render` (headless EGL): PNG size = scale x view size, SVG with one <circle>
# per displayed point that parses as XML, the sphere view at --dim 3, transparent backgrounds, and exit code 2
# with one line and nothing written for every bad option.
set -u
bin="$1"; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
pngsize() { od -An -tu1 -j16 -N8 "$1" | awk '{printf "%d %d", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}'; }
pngcolourtype() { od -An -tu1 -j25 -N1 "$1" | tr -d ' '; }

common=(--loss arcface --classes 4 --samples 40 --steps 30 --seed 3 --quiet)
"$bin" render "${common[@]}" --out "$tmp/c.png" --svg "$tmp/c.svg" --metrics "$tmp/m.json" \
  --width 320 --height 240 --scale 2 --annotate; code=$?
check "circle render exits 0" '[[ $code == 0 ]]'
check "PNG is scale x view size (640 x 480)" '[[ "$(pngsize "$tmp/c.png")" == "640 480" ]]'
check "SVG written" '[[ -s "$tmp/c.svg" ]]'
if command -v python3 > /dev/null; then
  check "SVG parses as XML" 'python3 -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" "$tmp/c.svg"'
  check "metrics JSON parses" 'python3 -c "import json, sys; json.load(open(sys.argv[1]))" "$tmp/m.json"'
fi
# The displayed points are the snapshot's train + test subsets; the metrics name how many were trained on.
circles=$(grep -o "<circle" "$tmp/c.svg" | wc -l)
check "SVG has points as <circle> (4 classes x 40 samples: 160)" '[[ $circles == 160 ]]'
check "SVG has margin wedges and labels" 'grep -q "class=\"band\"" "$tmp/c.svg" && grep -q "<text" "$tmp/c.svg"'
check "no temporary files left" '[[ $(ls "$tmp" | grep -c tmp) == 0 ]]'

"$bin" render "${common[@]}" --dim 3 --out "$tmp/s.png" --width 200 --height 150 --theme dark; code=$?
check "sphere render (--dim 3 default view) exits 0" '[[ $code == 0 && "$(pngsize "$tmp/s.png")" == "200 150" ]]'
"$bin" render "${common[@]}" --view input --out "$tmp/i.png" --svg "$tmp/i.svg" --width 200 --height 150; code=$?
check "input view with SVG exits 0" '[[ $code == 0 && -s "$tmp/i.png" && -s "$tmp/i.svg" ]]'
"$bin" render "${common[@]}" --out "$tmp/t.png" --width 100 --height 100 --background transparent; code=$?
check "transparent PNG is RGBA (colour type 6)" '[[ $code == 0 && "$(pngcolourtype "$tmp/t.png")" == 6 ]]'

bad() {  # name, args...: exit 2, one line on stderr, nothing written
  local name="$1"; shift
  rm -f "$tmp/bad.png"
  local err; err=$("$bin" render "${common[@]}" "$@" 2>&1 >/dev/null); local code=$?
  check "$name: exit 2" '[[ $code == 2 ]]'
  check "$name: one line" '[[ $(printf "%s\n" "$err" | wc -l) == 1 ]]'
  check "$name: nothing written" '[[ ! -e "$tmp/bad.png" ]]'
}
bad "unknown view" --view cube --out "$tmp/bad.png"
bad "scale above 8" --scale 9 --out "$tmp/bad.png"
bad "unknown theme" --theme neon --out "$tmp/bad.png"
bad "unknown background" --background plaid --out "$tmp/bad.png"
bad "circle view at d=3" --dim 3 --view circle --out "$tmp/bad.png"
bad "SVG of the sphere" --dim 3 --out "$tmp/bad.png" --svg "$tmp/bad.svg"
bad "missing output folder" --out "$tmp/no/such/dir/x.png"
bad "no --out" --width 100
bad "unknown loss" --loss nosuchloss --out "$tmp/bad.png"
exit $fail
