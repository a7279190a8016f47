#!/usr/bin/env bash
# A figure carries what made it (issue 14, "paper style"): a PNG declares its DPI (pHYs) and holds the
# settings in a tEXt chunk, an SVG in <metadata>; `render --config FIGURE` (or --config-from) redraws it byte
# for byte, a flag given on the command line wins over the figure's value, and a PNG or SVG without the
# settings is one clear line and exit code 2.
set -u
bin="$1"; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
# pHYs: pixels per unit x and y and the unit, as "X Y U" (empty when absent).
phys() { python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read(); i = 8
while i + 12 <= len(b):
    n = struct.unpack(">I", b[i:i+4])[0]; t = b[i+4:i+8]
    if t == b"pHYs": print(*struct.unpack(">IIB", b[i+8:i+17]))
    i += 12 + n' "$1"; }

common=(--loss arcface --classes 4 --samples 40 --steps 40 --seed 5 --quiet --width 320 --height 240)
"$bin" render "${common[@]}" --annotate --out "$tmp/a.png" --svg "$tmp/a.svg"; code=$?
check "render exits 0" '[[ $code == 0 ]]'
check "the PNG declares 300 dpi (11811 pixels per metre)" '[[ "$(phys "$tmp/a.png")" == "11811 11811 1" ]]'
check "the PNG holds the settings in a tEXt chunk" 'grep -aq "marginscope_figure" "$tmp/a.png"'
check "the SVG holds them in <metadata>" 'grep -q "<metadata id=\"marginscope\">" "$tmp/a.svg"'
"$bin" render "${common[@]}" --annotate --scale 2 --dpi 150 --out "$tmp/s2.png"
check "--scale 2 --dpi 150 declares 300 dpi: the same physical size" '[[ "$(phys "$tmp/s2.png")" == "11811 11811 1" ]]'

"$bin" render --config "$tmp/a.png" --out "$tmp/b.png" --quiet; code=$?
check "--config FIGURE.png redraws the figure byte for byte" '[[ $code == 0 ]] && cmp -s "$tmp/a.png" "$tmp/b.png"'
"$bin" render --config-from "$tmp/a.svg" --out "$tmp/c.png" --quiet; code=$?
check "--config-from FIGURE.svg redraws the same PNG" '[[ $code == 0 ]] && cmp -s "$tmp/a.png" "$tmp/c.png"'
"$bin" render --config "$tmp/a.png" --out "$tmp/d.png" --width 200 --quiet
check "a flag given wins over the figure's value" 'python3 -c "
import struct,sys; b=open(sys.argv[1],\"rb\").read(); sys.exit(struct.unpack(\">II\", b[16:24]) != (200, 240))" "$tmp/d.png"'
"$bin" train --config "$tmp/a.png" --steps 40 --metrics "$tmp/m.json" > /dev/null 2>&1; code=$?
check "train reads the training settings from a figure too" '[[ $code == 0 ]] && grep -q "\"arcface\"" "$tmp/m.json"'

# The sphere: the camera faces the data unless told, and the figure keeps the angles it was drawn with.
"$bin" render "${common[@]}" --dim 3 --out "$tmp/s.png"; code=$?
"$bin" render --config "$tmp/s.png" --out "$tmp/s2.png" --quiet
check "a sphere figure redraws byte for byte (its camera angles are kept)" '[[ $code == 0 ]] && cmp -s "$tmp/s.png" "$tmp/s2.png"'
"$bin" render "${common[@]}" --dim 3 --camera 30,20 --out "$tmp/s3.png"
check "--camera 30,20 is recorded as yaw and pitch in radians" 'grep -aq "\"pitch\":0.349065" "$tmp/s3.png" && grep -aq "\"yaw\":0.523598" "$tmp/s3.png"'
err=$("$bin" render "${common[@]}" --dim 3 --camera 30 --out "$tmp/x.png" 2>&1 > /dev/null); code=$?
check "--camera 30: exit 2 naming --camera and the form" '[[ $code == 2 && "$err" == *"--camera"*"AZ,EL"* ]]'

# A PNG that marginscope did not write: one line naming the file, exit 2, nothing written.
python3 -c 'import zlib,struct,sys
def ch(t,d): return struct.pack(">I",len(d))+t+d+struct.pack(">I",zlib.crc32(t+d))
open(sys.argv[1],"wb").write(b"\x89PNG\r\n\x1a\n"+ch(b"IHDR",struct.pack(">IIBBBBB",1,1,8,2,0,0,0))+ch(b"IDAT",zlib.compress(b"\0\0\0\0"))+ch(b"IEND",b""))' "$tmp/plain.png"
err=$("$bin" render --config "$tmp/plain.png" --out "$tmp/x.png" 2>&1 > /dev/null); code=$?
check "a PNG without settings: exit 2, one line naming it" '[[ $code == 2 && $(printf "%s\n" "$err" | wc -l) == 1 && "$err" == *plain.png*"carries no marginscope settings"* ]]'
check "and nothing written" '[[ ! -e "$tmp/x.png" ]]'
printf '\x89PNG\r\n\x1a\n\x00\x00\xff\xfftEXt' > "$tmp/cut.png"
err=$("$bin" render --config "$tmp/cut.png" --out "$tmp/x.png" 2>&1 > /dev/null); code=$?
check "a truncated PNG (chunk longer than the file): exit 2, one line" '[[ $code == 2 && $(printf "%s\n" "$err" | wc -l) == 1 ]]'
err=$("$bin" render "${common[@]}" --dpi 0 --out "$tmp/x.png" 2>&1 > /dev/null); code=$?
check "--dpi 0: exit 2 naming --dpi and the range" '[[ $code == 2 && "$err" == *"--dpi"*"1..10000"* ]]'
exit $fail
