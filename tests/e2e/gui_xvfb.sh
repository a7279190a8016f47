#!/usr/bin/env bash
# The whole desktop app under Xvfb (Mesa llvmpipe): with no display it says to use `marginscope render` and
# exits 2; a bad --config exits 2 naming the key; then it opens on the default preset, trains, exports a
# screenshot of the view (the `s` key's path), reads back the window, writes the --report JSON and exits 0
# with --quit-after.
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

# 3. The app: trains, screenshot at 4 s, window read back at exit, report.
xvfb-run -a -s "-screen 0 1280x800x24" "$BIN" --quit-after 8 --screenshot-at 4 --shot-dir "$tmp" \
  --report "$tmp/report.json" --screenshot-ui "$tmp/ui.png" >"$tmp/out.txt" 2>&1 ||
  fail "app exited with $?: $(cat "$tmp/out.txt")"

[ -s "$tmp/ui.png" ] || fail "no window screenshot"
shot=$(ls "$tmp"/default-*.png 2>/dev/null | head -1 || true)
[ -n "$shot" ] || fail "no view screenshot named after the preset in $tmp: $(ls "$tmp")"
[ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$shot is not a PNG"

"$PY" - "$tmp/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
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
