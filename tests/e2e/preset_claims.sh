#!/usr/bin/env bash
# Every lecture preset makes a claim in its description; this test trains each one headless, as
# `marginscope train --config PRESET` does (the preset's own "steps": 2,000; 4,000 for NormFace, 1,500 for
# triplets, 300 for Fashion-MNIST: one to two seconds of app time at full speed, after which the claims hold),
# and checks the claim numerically from the metrics JSON and the saved embeddings. A compare preset's run B is trained from its
# "compare" block (--loss, --param), since `train` trains run A only. It also checks the list itself: the
# lecture's order, and the frame-time preset kept out of the user's list (bench/presets).
# Runs in about 25 s on 2 cores. Fashion-MNIST is skipped (and said so) when the data is not installed.
set -u
bin="$1"
src="$2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$bin" "$src" "$dir" <<'PY'
import csv, json, math, os, subprocess, sys
from collections import defaultdict

bin, src, tmp = sys.argv[1:4]
P = os.path.join(src, "assets", "presets")
fail = 0


def check(name, ok):
    global fail
    print(("ok: " if ok else "FAIL: ") + name)
    fail |= not ok


def train(preset, tag, b=False):
    """Trains run A of the preset (or B from its compare block); returns (metrics, embeddings by class)."""
    path = os.path.join(P, preset)
    args = [bin, "train", "--config", path, "--quiet", "--metrics", f"{tmp}/{tag}.json",
            "--save-embeddings", f"{tmp}/{tag}.csv"]
    if b:
        cmp = json.load(open(path))["compare"]
        args += ["--loss", cmp["loss"]]
        for k, v in cmp.get("params", {}).items():
            args += ["--param", f"{k}={v}"]
    r = subprocess.run(args, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        check(f"{tag}: train exited {r.returncode}: {r.stderr.strip()}", False)
        return None, None
    emb = defaultdict(list)
    for row in csv.DictReader(open(f"{tmp}/{tag}.csv")):
        if row["split"] == "train":
            emb[int(row["label"])].append([float(row[k]) for k in row if k.startswith("e")])
    return json.load(open(f"{tmp}/{tag}.json")), emb


def codes(j):
    return [w["code"] for w in j["warnings"]]


def wrap(a):  # degrees to (-180, 180]
    return (a + 180) % 360 - 180


def mean_dir(pts):  # 2-D: the angle (deg) of a class's mean unit direction
    sx = sum(p[0] / math.hypot(*p) for p in pts)
    sy = sum(p[1] / math.hypot(*p) for p in pts)
    return math.degrees(math.atan2(sy, sx))


def neighbour_gaps(emb, q=0.05):
    """2-D: for each pair of classes adjacent on the circle, the empty arc between the middle (1-2q) of one
    class's angles and the middle of the next's, in degrees: [(a, b, gap)]."""
    mean = {k: mean_dir(v) for k, v in emb.items()}
    rel = {k: sorted(wrap(math.degrees(math.atan2(p[1], p[0])) - mean[k]) for p in v) for k, v in emb.items()}
    qt = lambda l, f: l[int(round(f * (len(l) - 1)))]
    order = sorted(mean, key=lambda k: mean[k] % 360)
    out = []
    for i, a in enumerate(order):
        b = order[(i + 1) % len(order)]
        out.append((a, b, wrap((mean[b] + qt(rel[b], q)) - (mean[a] + qt(rel[a], 1 - q)))))
    return out


def lemma(j, a, b):
    return next(r for r in j["lemma"] if r["classes"] == [min(a, b), max(a, b)])


def spread(emb):  # raw features' mean distance to their class centre
    tot = n = 0
    for v in emb.values():
        c = [sum(p[i] for p in v) / len(v) for i in range(len(v[0]))]
        tot += sum(math.dist(p, c) for p in v)
        n += len(v)
    return tot / n


# ------------------------------------------------------------------ the list: order and the perf preset
lecture = ["default", "01_softmax_vs_modified_softmax", "02_a_softmax_m1", "03_a_softmax_m2", "04_a_softmax_m3",
           "05_a_softmax_m4", "06_normface_why_s_matters", "07_cosface_vs_arcface", "08_center_loss_lambda",
           "09_triplet_mining", "10_imbalanced_weighted_softmax", "11_neural_collapse_free",
           "12_fashion_mnist_3d_arcface"]
names = sorted(f[:-5] for f in os.listdir(P) if f.endswith(".json"))
names = [n for n in names if n == "default"] + [n for n in names if n != "default"]  # as the app lists them
check(f"presets listed in the lecture's order: {names}", names == lecture)
check("perf_10k is not in the user's list", "perf_10k" not in names)
perf = os.path.join(src, "bench", "presets", "perf_10k.json")
r = subprocess.run([bin, "train", "--config", perf, "--steps", "1", "--quiet"], stderr=subprocess.PIPE, text=True)
check("bench/presets/perf_10k.json loads and trains", r.returncode == 0)

# ------------------------------------------------------------------ default: ArcFace on six blobs
j, _ = train("default.json", "default")
if j:
    a = j["angles"]
    check(f"default: test accuracy {j['test_accuracy']:.3f} > 0.95", j["test_accuracy"] > 0.95)
    check(f"default: separable at p95 (gap {a['gap_p95_deg']:.1f} deg)", a["separable_p95"])
    m = [r["measured_margin_deg"] for r in j["lemma"]]
    check(f"default: margin 28.65 deg for every pair ({min(m):.2f}..{max(m):.2f})",
          all(abs(x - math.degrees(0.5)) < 0.1 for x in m))

# ------------------------------------------------------------------ 01 softmax vs modified softmax
ja, _ = train("01_softmax_vs_modified_softmax.json", "sm")
jb, _ = train("01_softmax_vs_modified_softmax.json", "msm", b=True)
if ja and jb:
    cv = ja["neural_collapse"]["nc2_weights_equinorm"]
    check(f"01 softmax: weight norms' variation {cv:.3f} > 0.2", cv > 0.2)
    dev = [abs(r["boundary_a_deg"] - r["alpha_deg"] / 2) if r["boundary_a_deg"] is not None else 180
           for r in ja["lemma"]]
    check(f"01 softmax: a boundary leaves its bisector by >= 10 deg (largest {max(dev):.1f})", max(dev) >= 10)
    devb = [max(abs(r["boundary_a_deg"] - r["alpha_deg"] / 2), abs(r["boundary_b_deg"] - r["alpha_deg"] / 2))
            for r in jb["lemma"]]
    check(f"01 modified softmax: every boundary is the bisector (largest deviation {max(devb):.4f} deg)",
          max(devb) < 0.01)
    for tag, j in (("softmax", ja), ("modified softmax", jb)):
        check(f"01 {tag}: test accuracy {j['test_accuracy']:.3f} > 0.9", j["test_accuracy"] > 0.9)

# ------------------------------------------------------------------ 02..05 A-Softmax: the lemma, live
for m, f in ((1, "02_a_softmax_m1.json"), (2, "03_a_softmax_m2.json"), (3, "04_a_softmax_m3.json"),
             (4, "05_a_softmax_m4.json")):
    j, emb = train(f, f"asm{m}")
    if not j:
        continue
    lam = j["loss_state"]["lambda"]
    check(f"a-softmax m={m}: lambda {lam:.2e} < 0.001 after {j['step']} steps", 0 <= lam < 1e-3)
    worst = 0
    for r in j["lemma"]:
        theory = math.degrees(math.radians(r["alpha_deg"]) * (m - 1) / (m + 1))
        worst = max(worst, abs(r["effective_margin_deg"] - theory), abs(r["theory_margin_deg"] - theory))
    check(f"a-softmax m={m}: effective margin = alpha (m-1)/(m+1) within 1 deg (worst {worst:.3f})", worst < 1)
    short = [(a, b, round(g, 1), round(lemma(j, a, b)["theory_margin_deg"], 1)) for a, b, g in neighbour_gaps(emb)
             if g < lemma(j, a, b)["theory_margin_deg"]]
    check(f"a-softmax m={m}: middle 90% of each class keeps the theory margin from its neighbour {short}",
          not short)
    check(f"a-softmax m={m}: test accuracy {j['test_accuracy']:.3f} > 0.9", j["test_accuracy"] > 0.9)
    if m == 4:  # the schedule's early steps, as the description gives them
        for steps, most in ((100, 0.1), (1000, 1e-3)):
            r = subprocess.run([bin, "train", "--config", os.path.join(P, f), "--steps", str(steps), "--quiet",
                                "--metrics", f"{tmp}/lam{steps}.json"], stderr=subprocess.PIPE, text=True)
            lam = json.load(open(f"{tmp}/lam{steps}.json"))["loss_state"]["lambda"] if r.returncode == 0 else -1
            check(f"a-softmax: lambda {lam:.4g} <= {most} after {steps} steps", 0 <= lam <= most * (1 + 1e-9))

# ------------------------------------------------------------------ 06 NormFace: s = 1 fails, s = 16 trains
ja, _ = train("06_normface_why_s_matters.json", "nf1")
jb, _ = train("06_normface_why_s_matters.json", "nf16", b=True)
if ja and jb:
    K, s = ja["classes"], ja["bounds"]["scale_used"]
    bound = math.log(1 + (K - 1) * math.exp(-s * K / (K - 1)))
    check(f"06 s=1: K={K}, bound {bound:.3f} matches the JSON's "
          f"{ja['bounds']['normface_loss_lower_bound']:.3f} and is > 1.5",
          abs(bound - ja["bounds"]["normface_loss_lower_bound"]) < 1e-6 and bound > 1.5)
    check(f"06 s=1: loss {ja['loss']:.3f} >= bound", ja["loss"] >= bound)
    check(f"06 s=1: two weights merged ({ja['angles']['weight_min_deg']:.2f} deg < 5)",
          ja["angles"]["weight_min_deg"] < 5)
    check(f"06 s=1: test accuracy {ja['test_accuracy']:.3f} < 0.88", ja["test_accuracy"] < 0.88)
    check(f"06 s=16: weights >= 10 deg apart ({jb['angles']['weight_min_deg']:.1f})",
          jb["angles"]["weight_min_deg"] >= 10)
    check(f"06 s=16: test accuracy {jb['test_accuracy']:.3f} > 0.9", jb["test_accuracy"] > 0.9)
    check(f"06: gap {jb['test_accuracy'] - ja['test_accuracy']:.3f} >= 0.06",
          jb["test_accuracy"] - ja["test_accuracy"] >= 0.06)

# ------------------------------------------------------------------ 07 CosFace vs ArcFace
ja, _ = train("07_cosface_vs_arcface.json", "cos")
jb, _ = train("07_cosface_vs_arcface.json", "arc", b=True)
if ja and jb:
    rows = sorted((r["alpha_deg"], r["measured_margin_deg"]) for r in ja["lemma"])
    mono = all(rows[i][1] >= rows[i + 1][1] - 1e-9 for i in range(len(rows) - 1))
    check(f"07 cosface: margin shrinks as alpha grows {[(round(a), round(m, 1)) for a, m in rows]}",
          mono and rows[0][1] - rows[-1][1] >= 10)
    # The closed form: cos t - m = cos(alpha - t) at the boundary t = alpha/2 - margin/2... solved for margin.
    m = 0.35
    th = [2 * math.degrees(math.asin(m / (2 * math.sin(math.radians(a) / 2)))) for a, _ in rows]
    check("07 cosface: margin = 2 asin(m / (2 sin(alpha/2))) within 0.1 deg",
          all(abs(t - x) < 0.1 for t, (_, x) in zip(th, rows)))
    am = [r["measured_margin_deg"] for r in jb["lemma"]]
    check(f"07 arcface: margin 28.65 deg for every pair ({min(am):.2f}..{max(am):.2f})",
          all(abs(x - math.degrees(0.5)) < 0.1 for x in am))
    for tag, j in (("cosface", ja), ("arcface", jb)):
        check(f"07 {tag}: test accuracy {j['test_accuracy']:.3f} > 0.9", j["test_accuracy"] > 0.9)

# ------------------------------------------------------------------ 08 center loss: lambda 0.001 vs 1
ja, ea = train("08_center_loss_lambda.json", "c001")
jb, eb = train("08_center_loss_lambda.json", "c1", b=True)
check("08 center: the preset shows the raw features (\"view\": {\"raw\": true})",
      json.load(open(os.path.join(P, "08_center_loss_lambda.json"))).get("view", {}).get("raw") is True)
if ja and jb:
    sa, sb = spread(ea), spread(eb)
    check(f"08 center: distance to centre at lambda 1 ({sb:.3f}) < a third of lambda 0.001's ({sa:.3f})",
          sb < sa / 3)
    for tag, j in (("lambda 0.001", ja), ("lambda 1", jb)):
        check(f"08 {tag}: test accuracy {j['test_accuracy']:.3f} > 0.9", j["test_accuracy"] > 0.9)

# ------------------------------------------------------------------ 09 triplet: semi-hard vs batch-hard
ja, _ = train("09_triplet_mining.json", "semi")
jb, _ = train("09_triplet_mining.json", "hard", b=True)
if ja and jb:
    check(f"09 semi-hard: test accuracy {ja['test_accuracy']:.3f} > 0.9", ja["test_accuracy"] > 0.9)
    check(f"09 semi-hard: class means >= 30 deg apart ({ja['angles']['inter_center_min_deg']:.1f})",
          ja["angles"]["inter_center_min_deg"] >= 30)
    check(f"09 semi-hard: no collapse warning {codes(ja)}", "collapse" not in codes(ja))
    check(f"09 batch-hard: collapse warned {codes(jb)}", "collapse" in codes(jb))
    check(f"09 batch-hard: class means < 1 deg apart ({jb['angles']['inter_center_min_deg']:.3f})",
          jb["angles"]["inter_center_min_deg"] < 1)
    check(f"09 batch-hard: loss {jb['loss']:.4f} stuck at the margin 0.2", abs(jb["loss"] - 0.2) < 0.005)

# ------------------------------------------------------------------ 10 imbalance: softmax vs weighted
ja, _ = train("10_imbalanced_weighted_softmax.json", "imb")
jb, _ = train("10_imbalanced_weighted_softmax.json", "imbw", b=True)
if ja and jb:
    ca, cb = ja["neural_collapse"]["nc2_weights_equinorm"], jb["neural_collapse"]["nc2_weights_equinorm"]
    check(f"10 softmax: weight norms' variation {ca:.3f} > 0.3", ca > 0.3)
    check(f"10: softmax's variation >= 1.5 x weighted softmax's ({ca:.3f} vs {cb:.3f})", ca >= 1.5 * cb)
    for tag, j in (("softmax", ja), ("weighted softmax", jb)):
        check(f"10 {tag}: test accuracy {j['test_accuracy']:.3f} > 0.6", j["test_accuracy"] > 0.6)

# ------------------------------------------------------------------ 11 neural collapse, free embeddings
j, _ = train("11_neural_collapse_free.json", "nc")
if j:
    n, a = j["neural_collapse"], j["angles"]
    tetra = math.degrees(math.acos(-1 / 3))
    check(f"11: class means at {a['inter_center_min_deg']:.3f}..{a['inter_center_mean_deg']:.3f} deg "
          f"(tetrahedron {tetra:.3f}) within 0.1", abs(a["inter_center_min_deg"] - tetra) < 0.1
          and abs(a["inter_center_mean_deg"] - tetra) < 0.1)
    check(f"11: weights at {a['weight_min_deg']:.3f} deg at least, within 0.1 of the tetrahedron's",
          abs(a["weight_min_deg"] - tetra) < 0.1)
    check(f"11: NC1 {n['nc1']:.2e} < 1e-4", n["nc1"] < 1e-4)
    check(f"11: NC2 {n['nc2_equinorm']:.2e} {n['nc2_equiangular']:.2e}, NC3 {n['nc3']:.2e} < 1e-2",
          max(n["nc2_equinorm"], n["nc2_equiangular"], n["nc3"]) < 1e-2)

# ------------------------------------------------------------------ 12 Fashion-MNIST in 3-D
fm = "/usr/share/datasets/fashion-mnist"
if not os.path.isdir(fm):
    print(f"SKIP: 12 Fashion-MNIST ({fm} missing: apt-get install the Fashion-MNIST package)")
else:
    j, _ = train("12_fashion_mnist_3d_arcface.json", "fm")
    if j:
        check(f"12: test accuracy {j['test_accuracy']:.3f} > 0.75 after {j['step']} steps",
              j["test_accuracy"] > 0.75)
        check(f"12: weights >= 15 deg apart ({j['angles']['weight_min_deg']:.1f})",
              j["angles"]["weight_min_deg"] >= 15)

sys.exit(fail)
PY
