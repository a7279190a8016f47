#!/usr/bin/env bash
# Regenerates docs/img/lecture/NN_name.png: the app under Xvfb at 1920x1080 after SECONDS (default 10) of
# each preset, Presets tab open (README "The lecture, preset by preset"). NormFace gets 3x as long: its
# claim needs more steps. Look at every image afterwards.
#   scripts/lecture_screenshots.sh [BINARY] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/marginscope}"
secs="${2:-10}"
out=docs/img/lecture
mkdir -p "$out"
shoot() {  # preset-file png seconds
  xvfb-run -a -s "-screen 0 1920x1080x24" "$bin" --config "$1" --width 1920 --height 1080 \
    --quit-after "$3" --tab Presets --screenshot-ui "$2" > /dev/null
  echo "$2"
}
shoot assets/presets/default.json "$out/00_default.png" "$secs"
for f in assets/presets/[0-9][0-9]_*.json; do
  name=$(basename "$f" .json)
  s="$secs"
  [[ "$name" == *normface* ]] && s=$((secs * 3))
  shoot "$f" "$out/$name.png" "$s"
done
