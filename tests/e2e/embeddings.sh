#!/usr/bin/env bash
# End-to-end contract of "your own model" (`render|train --embeddings FILE --labels FILE [--weights FILE]
# [--split-column]`): .npy files written here with NumPy's header bytes (python3's struct, no numpy), 4 classes
# at known angles whose metrics the test knows (class directions 90 deg apart, intra-class angles 0/5/5 deg,
# a test point placed nearer the wrong class), the same numbers from CSV, the views drawn (PNG with every
# class colour), metrics for d = 64, and exit code 2 with one line for every kind of bad file.
set -u
bin="$1"; src="${2:-.}"; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

python3 - "$tmp" <<'EOF'
import math, struct, sys, os
d = sys.argv[1]
def npy(name, descr, shape, values, fortran=False, fmt=None, raw=None, major=1):
    shape_s = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, "True" if fortran else "False", shape_s)
    pre = 10 if major == 1 else 12
    h += " " * ((64 - (pre + len(h) + 1) % 64) % 64) + "\n"
    head = b"\x93NUMPY" + bytes([major, 0]) + (struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h)))
    data = raw if raw is not None else struct.pack("<%d%s" % (len(values), fmt), *values)
    open(os.path.join(d, name), "wb").write(head + h.encode() + data)
def csv(name, rows):
    open(os.path.join(d, name), "w").write("".join(",".join(str(v) for v in r) + "\n" for r in rows))
# 4 classes at 0, 90, 180, 270 deg; three training points each at -5, 0, +5 deg around it.
emb, lab = [], []
for k in range(4):
    for off in (-5, 0, 5):
        a = math.radians(90 * k + off)
        emb.append((2 * math.cos(a), 2 * math.sin(a))); lab.append(k)
# Test points: three right, one (class 3 at 50 deg) nearer class 1: test accuracy 3/4.
test = [(0, 10), (1, 100), (2, 190), (3, 50)]
temb = [(math.cos(math.radians(t)), math.sin(math.radians(t))) for _, t in test]
flat = [x for p in emb for x in p]
npy("e2.npy", "<f4", (12, 2), flat, fmt="f")
npy("e2d.npy", "<f8", (12, 2), flat, fmt="d", major=2)
npy("l.npy", "<i8", (12,), lab, fmt="q")
csv("e2.csv", [("e1", "e2")] + [("%.9g" % x, "%.9g" % y) for x, y in emb])
csv("l.csv", [(v,) for v in lab])
W = [(math.cos(math.radians(90 * k)), math.sin(math.radians(90 * k))) for k in range(4)]
npy("w.npy", "<f8", (4, 2), [x for p in W for x in p], fmt="d")
# With a split column: the training points, then the test points.
npy("es.npy", "<f4", (16, 2), flat + [x for p in temb for x in p], fmt="f")
npy("ls.npy", "<i4", (16, 2), [v for k in lab for v in (k, 0)] + [v for k, _ in test for v in (k, 1)], fmt="i")
csv("ls.csv", [(k, "train") for k in lab] + [(k, "test") for k, _ in test])
# d = 3 (sphere view) and d = 64 (metrics only): class k along axis k.
e3 = []
for k in range(3):
    for off in (-0.1, 0, 0.1):
        v = [0.05, 0.05, 0.05]; v[k] = 1; v[(k + 1) % 3] += off; e3 += v
npy("e3.npy", "<f4", (9, 3), e3, fmt="f")
npy("l3.npy", "|u1", (9,), [k for k in range(3) for _ in range(3)], fmt="B")
e64 = []
for i in range(40):
    v = [0.01 * ((i * 7 + j * 3) % 11) for j in range(64)]; v[i % 4] += 1; e64 += v
npy("e64.npy", "<f4", (40, 64), e64, fmt="f")
npy("l64.npy", "<i4", (40,), [i % 4 for i in range(40)], fmt="i")
# Bad files.
nan = float("nan")
npy("bad_nan.npy", "<f4", (12, 2), flat[:-1] + [nan], fmt="f")
npy("bad_dtype.npy", "<i4", (12, 2), [1] * 24, fmt="i")
npy("bad_fortran.npy", "<f4", (12, 2), flat, fmt="f", fortran=True)
npy("bad_big.npy", ">f4", (12, 2), None, raw=struct.pack(">24f", *flat))
npy("bad_trunc.npy", "<f4", (12, 2), flat[:-3], fmt="f")
open(os.path.join(d, "bad_header.npy"), "wb").write(b"\x93NUMPY\x01\x00\x10\x00{'descr': <f4}  " + b"\0" * 8)
npy("bad_d.npy", "<f4", (1, 4097), None, raw=b"\0" * 4 * 4097)
npy("bad_n0.npy", "<f4", (0, 2), [], fmt="f")
npy("bad_l13.npy", "<i8", (13,), lab + [0], fmt="q")
csv("bad_neg.csv", [(v,) for v in lab[:-1]] + [(-1,)])
npy("bad_w3.npy", "<f8", (4, 3), [0.5] * 12, fmt="d")
npy("bad_w2.npy", "<f8", (2, 2), [1, 0, 0, 1], fmt="d")
EOF

jq() {  # file, python expression over j: prints its value
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}
near() {  # value, expected, tolerance
  python3 -c "import sys; v,e,t=map(float,sys.argv[1:]); sys.exit(0 if abs(v-e)<=t else 1)" "$1" "$2" "$3"
}

# --- Metrics of the known geometry (no weights: class means; nearest class mean).
"$bin" train --embeddings "$tmp/e2.npy" --labels "$tmp/l.npy" --metrics "$tmp/m.json" --quiet
check "train --embeddings exits 0" '[[ $? == 0 ]]'
a=$(jq "$tmp/m.json" 'j["angles"]["inter_center_min_deg"]')
check "min inter-class angle is 90 deg ($a)" 'near "$a" 90 1e-4'
a=$(jq "$tmp/m.json" 'j["angles"]["intra_max_deg"]')
check "max intra-class angle is 5 deg ($a)" 'near "$a" 5 1e-4'
a=$(jq "$tmp/m.json" 'j["angles"]["intra_mean_deg"]')
check "mean intra-class angle is 10/3 deg ($a)" 'near "$a" 3.333333 1e-4'
check "separable" '[[ $(jq "$tmp/m.json" "j[\"angles\"][\"separable\"]") == True ]]'
check "train accuracy 1" '[[ $(jq "$tmp/m.json" "j[\"train_accuracy\"]") == 1.0 ]]'
check "no split: test_accuracy null and said so" \
  '[[ $(jq "$tmp/m.json" "j[\"test_accuracy\"]") == None && $(jq "$tmp/m.json" "\"test_note\" in j") == True ]]'
check "no nan anywhere" '! grep -qi nan "$tmp/m.json"'
check "source names the files" '[[ $(jq "$tmp/m.json" "j[\"source\"][\"embeddings\"]") == "$tmp/e2.npy" ]]'
check "neural collapse present" '[[ $(jq "$tmp/m.json" "j[\"neural_collapse\"][\"nc1\"] is not None") == True ]]'
check "verification on the training points" '[[ $(jq "$tmp/m.json" "j[\"verification\"][\"split\"]") == train ]]'

# The same numbers from float64 (format 2.0 header) and from CSV.
"$bin" train --embeddings "$tmp/e2d.npy" --labels "$tmp/l.npy" --metrics "$tmp/md.json" --quiet
"$bin" train --embeddings "$tmp/e2.csv" --labels "$tmp/l.csv" --metrics "$tmp/mc.json" --quiet
for f in md mc; do
  a=$(jq "$tmp/$f.json" 'j["angles"]["intra_max_deg"]')
  check "$f: max intra-class angle is 5 deg ($a)" 'near "$a" 5 1e-4'
done

# --- A split column and weights: the named loss's test rule, the lemma of its margin.
"$bin" train --embeddings "$tmp/es.npy" --labels "$tmp/ls.npy" --split-column --metrics "$tmp/ms.json" --quiet
check "split: test accuracy 3/4" 'near "$(jq "$tmp/ms.json" "j[\"test_accuracy\"]")" 0.75 1e-9'
check "split: 12 train, 4 test points" \
  '[[ $(jq "$tmp/ms.json" "j[\"train_points\"], j[\"test_points\"]") == "12 4" ]]'
"$bin" train --embeddings "$tmp/es.npy" --labels "$tmp/ls.csv" --split-column --weights "$tmp/w.npy" \
  --loss arcface --param s=16 --param m=0.5 --metrics "$tmp/mw.json" --quiet
check "weights: test accuracy 3/4 by the ArcFace test rule" 'near "$(jq "$tmp/mw.json" "j[\"test_accuracy\"]")" 0.75 1e-9'
check "weights: min weight angle 90 deg" 'near "$(jq "$tmp/mw.json" "j[\"angles\"][\"weight_min_deg\"]")" 90 1e-6'
a=$(jq "$tmp/mw.json" 'min(r["alpha_deg"] for r in j["lemma"])')
check "lemma: neighbouring weights at 90 deg ($a)" 'near "$a" 90 1e-6'
a=$(jq "$tmp/mw.json" '[r["theory_margin_deg"] for r in j["lemma"] if abs(r["alpha_deg"]-90)<1e-6][0]')
check "lemma: ArcFace margin m = 0.5 rad = 28.648 deg ($a)" 'near "$a" 28.6479 1e-3'
check "verification on the test points" '[[ $(jq "$tmp/mw.json" "j[\"verification\"][\"split\"]") == test ]]'

# --- d = 64: metrics only; a view says it needs d = 2 or 3.
"$bin" train --embeddings "$tmp/e64.npy" --labels "$tmp/l64.npy" --metrics "$tmp/m64.json" --quiet
check "d = 64 metrics" '[[ $? == 0 && $(jq "$tmp/m64.json" "j[\"dim\"]") == 64 ]]'
err=$("$bin" render --embeddings "$tmp/e64.npy" --labels "$tmp/l64.npy" --out "$tmp/v64.png" 2>&1)
code=$?
check "d = 64 render: exit 2, one line, needs d = 2 or 3" \
  '[[ $code == 2 && $(wc -l <<< "$err") == 1 && "$err" == *"d = 2 or 3"* && ! -e "$tmp/v64.png" ]]'

# --- Views: circle (d = 2), sphere (d = 3); every class colour present (no legend: its swatches would
# supply them).
colours() {  # png, K: exit 0 when each of the first K paper class colours has pixels in the image
  python3 - "$1" "$2" <<'EOF'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read(); K = int(sys.argv[2])
assert b[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w = 8, b"", 0
while pos < len(b):
    n, t = struct.unpack(">I4s", b[pos:pos + 8]); c = b[pos + 8:pos + 8 + n]; pos += 12 + n
    if t == b"IHDR": w, h, depth, ct = struct.unpack(">IIBB", c[:10]); ch = {2: 3, 6: 4}[ct]
    if t == b"IDAT": idat += c
raw = zlib.decompress(idat); stride = w * ch; prev = bytearray(stride); px = set(); o = 0
for y in range(h):
    f = raw[o]; row = bytearray(raw[o + 1:o + 1 + stride]); o += 1 + stride
    for i in range(stride):
        a = row[i - ch] if i >= ch else 0; up = prev[i]; ul = prev[i - ch] if i >= ch else 0
        if f == 1: row[i] = (row[i] + a) & 255
        elif f == 2: row[i] = (row[i] + up) & 255
        elif f == 3: row[i] = (row[i] + (a + up) // 2) & 255
        elif f == 4:
            p = a + up - ul; pa, pb, pc = abs(p - a), abs(p - up), abs(p - ul)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else up if pb <= pc else ul)) & 255
    prev = row
    for x in range(0, stride, ch): px.add(tuple(row[x:x + 3]))
pal = [0x0072B2, 0xE69F00, 0xD2004B, 0x69B496, 0xE187FF]
ok = all(any(sum((p[i] - ((c >> (16 - 8 * i)) & 255)) ** 2 for i in range(3)) < 20 ** 2 for p in px) for c in pal[:K])
sys.exit(0 if ok else 1)
EOF
}
"$bin" render --embeddings "$tmp/es.npy" --labels "$tmp/ls.npy" --split-column --weights "$tmp/w.npy" --loss arcface \
  --no-legend --width 400 --height 300 --out "$tmp/v2.png" --svg "$tmp/v2.svg" --metrics "$tmp/mr.json" --quiet
check "render d = 2: exit 0, PNG, SVG, metrics" '[[ $? == 0 && -s "$tmp/v2.png" && -s "$tmp/v2.svg" && -s "$tmp/mr.json" ]]'
check "circle view has all 4 class colours" 'colours "$tmp/v2.png" 4'
"$bin" render --embeddings "$tmp/e3.npy" --labels "$tmp/l3.npy" --no-legend --width 400 --height 300 --out "$tmp/v3.png" --quiet
check "render d = 3: sphere PNG" '[[ $? == 0 && -s "$tmp/v3.png" ]]'
check "sphere view has all 3 class colours" 'colours "$tmp/v3.png" 3'
"$bin" render --embeddings "$tmp/e2.npy" --labels "$tmp/l.npy" --view raw --width 400 --height 300 --out "$tmp/vr.png" --quiet
check "raw view" '[[ $? == 0 && -s "$tmp/vr.png" ]]'
"$bin" render --embeddings "$tmp/e2.npy" --labels "$tmp/l.npy" --width 400 --height 300 --out "$tmp/vm.png" \
  --svg "$tmp/vm.svg" --quiet
check "without --weights the arrows are class means (μ0, dashed note), not weights" \
  'grep -q ">μ0<" "$tmp/vm.svg" && ! grep -q ">W0<" "$tmp/vm.svg" && grep -q "class-mean directions" "$tmp/vm.svg"'
check "the caption names the embeddings file, not a training step" \
  'grep -q "embeddings e2.npy" "$tmp/vm.svg" && ! grep -q ">step 0" "$tmp/vm.svg"'

# --- Bad files: exit 2, one line naming the option and the file, nothing written.
bad() {  # name, expected text, args...
  local name="$1" want="$2"; shift 2
  local err code
  err=$("$bin" train --metrics "$tmp/bad.json" --quiet "$@" 2>&1); code=$?
  check "bad $name: exit 2, one line, says '$want'" \
    '[[ $code == 2 && $(wc -l <<< "$err") == 1 && "$err" == *"$want"* && ! -e "$tmp/bad.json" ]]'
  [[ $code == 2 ]] || echo "   got exit $code: $err"
}
L=(--labels "$tmp/l.npy")
bad "rows" "13 labels for the 12 rows" --embeddings "$tmp/e2.npy" --labels "$tmp/bad_l13.npy"
bad "NaN" "--embeddings '$tmp/bad_nan.npy': row 12 column 2 is NaN" --embeddings "$tmp/bad_nan.npy" "${L[@]}"
bad "dtype" "float32 or float64" --embeddings "$tmp/bad_dtype.npy" "${L[@]}"
bad "Fortran" "Fortran order" --embeddings "$tmp/bad_fortran.npy" "${L[@]}"
bad "big-endian" "big-endian" --embeddings "$tmp/bad_big.npy" "${L[@]}"
bad "truncated" "truncated data" --embeddings "$tmp/bad_trunc.npy" "${L[@]}"
bad "header" "bad .npy header" --embeddings "$tmp/bad_header.npy" "${L[@]}"
bad "d > 4096" "more than 4096" --embeddings "$tmp/bad_d.npy" "${L[@]}"
bad "n = 0" "n = 0" --embeddings "$tmp/bad_n0.npy" "${L[@]}"
bad "label < 0" "negative" --embeddings "$tmp/e2.npy" --labels "$tmp/bad_neg.csv"
bad "weights d" "--weights '$tmp/bad_w3.npy': d = 3" --embeddings "$tmp/e2.npy" "${L[@]}" --weights "$tmp/bad_w3.npy"
bad "label >= K" "not a class of --weights" --embeddings "$tmp/e2.npy" "${L[@]}" --weights "$tmp/bad_w2.npy"
bad "a folder" "is not a regular file" --embeddings "$tmp" "${L[@]}"
bad "missing file" "cannot be read" --embeddings "$tmp/nothing.npy" "${L[@]}"
bad "no labels" "needs --labels" --embeddings "$tmp/e2.npy"
bad "labels alone" "go with --embeddings" "${L[@]}"
bad "split column missing" "--split-column needs two" --embeddings "$tmp/e2.npy" --labels "$tmp/l.csv" --split-column
exit $fail
