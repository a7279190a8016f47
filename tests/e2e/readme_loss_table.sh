#!/usr/bin/env bash
# The README's loss table is printed by `marginscope losses --markdown`, never written by hand: the rows between
# the LOSS-TABLE marker and the first line that is not a table row must equal the command's output exactly.
set -u
bin="$1"; src="$2"
want=$("$bin" losses --markdown) || { echo "FAIL: losses --markdown exited non-zero"; exit 1; }
have=$(awk '/<!-- LOSS-TABLE -->/ { on = 1; next } on && /^\|/ { print; next } on { exit }' "$src/README.md")
if [[ "$want" != "$have" ]]; then
  echo "FAIL: README.md's loss table differs from 'marginscope losses --markdown' (regenerate it):"
  diff <(printf '%s\n' "$have") <(printf '%s\n' "$want") | head -20
  exit 1
fi
echo "ok: README loss table = losses --markdown ($(wc -l <<<"$want") lines)"
