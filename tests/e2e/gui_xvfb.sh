#!/usr/bin/env bash
# The whole desktop app under Xvfb (Mesa llvmpipe): with no display it says to use `marginscope render` and
# exits 2; a bad --config, a bad --quit-after/--width or an unwritable --report exits 2 in one line naming the
# option, before any window opens; then it opens on the default preset, trains, exports screenshots of the
# view (the `s` key's path, pressed every second off the UI thread: each press ends in a file or a message),
# reads back the window, ticks "compare" (run A keeps its progress, B trains the contrasting loss), writes the
# --report JSON and exits 0 with --quit-after.
# usage: gui_xvfb.sh <marginscope-binary> <source-dir>
set -euo pipefail
BIN=$1
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# 1. No display: exactly one line, exit code 2.
set +e
out=$(env -u DISPLAY -u WAYLAND_DISPLAY "$BIN" --quit-after 1 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "no display: exit code $rc, expected 2"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "no display: expected one line, got: $out"
printf '%s' "$out" | grep -q "marginscope render" || fail "no display: does not point to 'marginscope render': $out"

# 2. A bad preset on the command line: exit 2 and the bad key named, before any window opens.
echo '{"loss": "arcface", "learning_rat": 0.1}' >"$tmp/bad.json"
set +e
out=$(xvfb-run -a -s "-screen 0 1280x800x24" "$BIN" --config "$tmp/bad.json" --quit-after 2 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "bad preset: exit code $rc, expected 2 ($out)"
printf '%s' "$out" | grep -q "learning_rat" || fail "bad preset: the key is not named: $out"

# 3. Bad GUI options: one line naming the option and what is allowed, exit 2, before any window opens (the
#    checks run with no display at all, so a message about the display would mean they came too late).
bad_option() {
  local want=$1
  shift
  set +e
  out=$(env -u DISPLAY -u WAYLAND_DISPLAY "$BIN" "$@" 2>&1)
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "$*: exit code $rc, expected 2 ($out)"
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "$*: expected one line, got: $out"
  printf '%s' "$out" | grep -q -- "$want" || fail "$*: '$want' not in: $out"
}
bad_option "--quit-after: -5 is out of range" --quit-after -5
bad_option "--quit-after: 'nan' is not a number" --quit-after nan
bad_option "--quit-after: 1e300 is out of range (allowed: 0.001 .. 86400)" --quit-after 1e300
bad_option "--width: 1e30 is out of range (allowed: 320 .. 16384)" --width 1e30
bad_option "--height: 100 is out of range (allowed: 240 .. 16384)" --height 100
bad_option "--report: cannot write '/nonexistent/r.json'" --report /nonexistent/r.json --quit-after 3
bad_option "--shot-dir" --shot-dir /nonexistent --quit-after 3
bad_option "--screenshot-every: 0 is out of range" --screenshot-every 0

# 4. The app: trains, the screenshot key pressed every second from 2 s, window read back at exit, report.
xvfb-run -a -s "-screen 0 1280x800x24" "$BIN" --quit-after 8 --screenshot-at 2 --screenshot-every 1 \
  --shot-dir "$tmp" --report "$tmp/report.json" --screenshot-ui "$tmp/ui.png" >"$tmp/out.txt" 2>&1 ||
  fail "app exited with $?: $(cat "$tmp/out.txt")"

[ -s "$tmp/ui.png" ] || fail "no window screenshot"
shot=$(ls "$tmp"/default-*.png 2>/dev/null | head -1 || true)
[ -n "$shot" ] || fail "no view screenshot named after the preset in $tmp: $(ls "$tmp")"
[ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$shot is not a PNG"

files=$(ls "$tmp"/default-*.png | wc -l)
"$PY" - "$tmp/report.json" "$files" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
files = int(sys.argv[2])
sh = r["screenshots"]
# Every press ends in a file or in a message; the files on disk are exactly the saved ones.
assert sh["pressed"] >= 4, ("the scripted presses did not happen", sh)
assert sh["saved"] + sh["failed"] == sh["pressed"], ("a press ended in neither a file nor a message", sh)
assert sh["saved"] >= 1 and files == sh["saved"], ("saved files", files, sh)
ft = r["frame_time_ms"]
for k in ("p50", "p90", "p99", "max"):
    assert ft[k] > 0, ("frame_time_ms", k, ft)
assert ft["p50"] <= ft["p90"] <= ft["p99"] <= ft["max"], ft
assert r["steps_per_second"] > 0, ("the default preset did not train", r)
assert r["points_on_screen"] > 0, r
# The views are drawn on their own thread: it must have delivered images while training ran.
assert r["view_images"] >= 2, ("the view thread drew nothing", r)
print("gui e2e ok:", json.dumps({"frame_time_ms": ft, "steps_per_second": r["steps_per_second"]}))
EOF

# 5. "compare" ticked at 3 s: run A keeps its progress, B trains the loss the lecture contrasts with A's.
xvfb-run -a -s "-screen 0 1280x800x24" "$BIN" --quit-after 7 --compare-at 3 --report "$tmp/compare.json" \
  >"$tmp/out2.txt" 2>&1 || fail "compare run exited with $?: $(cat "$tmp/out2.txt")"
"$PY" - "$tmp/compare.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["compare"]
assert c["a_step_at_compare"] > 0, ("A had not trained when compare was ticked", c)
assert c["a_step_at_exit"] >= c["a_step_at_compare"], ("ticking compare restarted run A", c)
assert c["b_loss"] != c["a_loss"] and c["b_step_at_exit"] > 0, ("B is not training a second loss", c)
print("gui e2e compare ok:", json.dumps(c))
EOF
