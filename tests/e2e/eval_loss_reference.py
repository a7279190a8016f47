#!/usr/bin/env python3
"""An independent reference for `marginscope eval-loss`: every loss written again, naively and straight from
the definitions in the README, on a tiny reverse-mode automatic differentiation (no numpy needed), then
compared with the binary on random inputs of several sizes. Usage: eval_loss_reference.py MARGINSCOPE.
Exit 0 when every loss value and gradient agrees to 1e-6 relative."""
import json
import math
import random
import subprocess
import sys


class V:
    """A scalar node of the reverse-mode graph."""
    __slots__ = ("v", "parents", "g")

    def __init__(self, v, parents=()):
        self.v, self.parents, self.g = float(v), parents, 0.0

    def __add__(a, b):
        b = b if isinstance(b, V) else V(b)
        return V(a.v + b.v, ((a, 1.0), (b, 1.0)))

    __radd__ = __add__

    def __sub__(a, b):
        b = b if isinstance(b, V) else V(b)
        return V(a.v - b.v, ((a, 1.0), (b, -1.0)))

    def __rsub__(a, b):
        return V(b) - a

    def __mul__(a, b):
        b = b if isinstance(b, V) else V(b)
        return V(a.v * b.v, ((a, b.v), (b, a.v)))

    __rmul__ = __mul__

    def __truediv__(a, b):
        b = b if isinstance(b, V) else V(b)
        return V(a.v / b.v, ((a, 1 / b.v), (b, -a.v / (b.v * b.v))))

    def __rtruediv__(a, b):
        return V(b) / a

    def __neg__(a):
        return V(-a.v, ((a, -1.0),))

    def __pow__(a, p):  # constant exponent
        if a.v == 0:
            return V(0.0 if p > 0 else 1.0, ((a, 0.0),))
        return V(a.v ** p, ((a, p * a.v ** (p - 1)),))


def exp(a): e = math.exp(a.v); return V(e, ((a, e),))
def log(a): return V(math.log(a.v), ((a, 1 / a.v),))
def sqrt(a): s = math.sqrt(a.v); return V(s, ((a, 0.5 / s if s > 0 else 0.0),))
def cos(a): return V(math.cos(a.v), ((a, -math.sin(a.v)),))
def sin(a): return V(math.sin(a.v), ((a, math.cos(a.v)),))
def acos(a): return V(math.acos(a.v), ((a, -1 / math.sqrt(1 - a.v * a.v)),))
def relu(a): return V(max(0.0, a.v), ((a, 1.0 if a.v > 0 else 0.0),))
def clamp(a, lo, hi): return V(min(hi, max(lo, a.v)), ((a, 1.0 if lo < a.v < hi else 0.0),))
def vmax(a, c): return a if a.v >= c else V(c)  # max(a, constant)


def backward(out):
    order, seen = [], set()
    stack = [(out, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for p, _ in node.parents:
            if id(p) not in seen:
                stack.append((p, False))
    out.g = 1.0
    for node in reversed(order):
        for p, local in node.parents:
            p.g += local * node.g


CLAMP = 1 - 1e-7
PI = math.pi


def dot(a, b): return sum((x * y for x, y in zip(a, b)), V(0.0))
def norm(a): return sqrt(dot(a, a))
def unit(a): n = vmax(norm(a), 1e-12); return [x / n for x in a]
def sub(a, b): return [x - y for x, y in zip(a, b)]
def sqd(a, b): d = sub(a, b); return dot(d, d)


def ce(logits, y):  # -log softmax(logits)_y, by log-sum-exp
    mx = max(z.v for z in logits)
    lse = log(sum((exp(z - mx) for z in logits), V(0.0))) + mx
    return lse - logits[y]


def softmax_p(logits, y):
    return exp(-ce(logits, y))


def cosines(h, W):
    hu = unit(h)
    return [dot(hu, unit(w)) for w in W]


def psi(c, m):
    t = acos(clamp(c, -CLAMP, CLAMP))
    k = min(m - 1, int(math.floor(m * t.v / PI)))
    return (1 if k % 2 == 0 else -1) * cos(m * t) - 2 * k


def classifier_logits(name, p, h, W, y, K, H=None, Y=None, i=None, s_ada=None):
    c = cosines(h, W)
    hn = norm(h)
    if name == "modified-softmax":
        return [hn * cj for cj in c]
    if name in ("l-softmax", "a-softmax"):
        lam, m = p.get("lambda", 0.0), int(p.get("m", 2 if name == "l-softmax" else 4))
        wn = [norm(w) if name == "l-softmax" else V(1.0) for w in W]
        z = [wn[j] * hn * c[j] for j in range(K)]
        z[y] = wn[y] * hn * (psi(c[y], m) + lam * c[y]) / (1 + lam)
        return z
    if name == "l2-softmax":
        a = p.get("alpha", 16.0)
        hu = unit(h)
        return [a * dot(hu, w) for w in W]
    if name == "normface":
        return [p.get("s", 16.0) * cj for cj in c]
    if name == "adacos":
        return [s_ada * cj for cj in c]
    s = p.get("s", {"am-softmax": 30, "arcface": 64, "combined": 64, "enhanced-am-softmax": 30}[name])
    z = [s * cj for cj in c]
    if name == "am-softmax":
        z[y] = s * (c[y] - p.get("m", 0.35))
    elif name == "arcface":
        m, var = p.get("m", 0.5), p.get("variant", "insightface")
        t = acos(clamp(c[y], -CLAMP, CLAMP))
        if var == "plain" or (var == "easy" and c[y].v > 0) or (var == "insightface" and t.v <= PI - m):
            z[y] = s * cos(t + m)
        elif var == "easy":
            z[y] = s * c[y]
        else:
            z[y] = s * (c[y] - m * math.sin(m))
    elif name == "combined":
        t = acos(clamp(c[y], -CLAMP, CLAMP))
        z[y] = s * (cos(p.get("m1", 1.0) * t + p.get("m2", 0.3)) - p.get("m3", 0.2))
    elif name == "enhanced-am-softmax":
        m = p.get("m", 0.35)
        if p.get("negative_margin", True):
            z = [s * (cj + m) for cj in c]
        z[y] = s * (c[y] - m) / math.exp(m)
    return z


def arc_insightface(c, m):
    """ArcFace's target cosine as insightface writes it: cos(t + m) by the sine form while c > cos(pi - m),
    else the linear extension c - m sin m (m may be a node: MagFace's per-sample margin)."""
    sin_t = sqrt(1 - c * c)
    if c.v > math.cos(PI - (m.v if isinstance(m, V) else m)):
        return c * cos(m if isinstance(m, V) else V(m)) - sin_t * sin(m if isinstance(m, V) else V(m))
    return c - (m if isinstance(m, V) else V(m)) * sin(m if isinstance(m, V) else V(m))


def modern_loss(name, p, H, W, Y):
    """The four later losses, written from the contract in the issue, independently of sim/."""
    n, s = len(H), p.get("s", 64.0)
    total = V(0.0)
    for h, y in zip(H, Y):
        if name == "subcenter-arcface":
            k = int(p.get("k", 3))
            allc = cosines(h, W)
            c = []
            for j in range(len(W) // k):
                best = max(allc[j * k:(j + 1) * k], key=lambda x: x.v)
                c.append(best)
        else:
            c = cosines(h, W)
        if name == "curricularface":
            m, t = p.get("m", 0.5), p.get("t", 0.0)
            cy = c[y]
            thr = cy.v * math.cos(m) - math.sqrt(max(0.0, 1 - cy.v * cy.v)) * math.sin(m)
            z = [s * (cj * (t + cj)) if (j != y and cj.v > thr) else s * cj for j, cj in enumerate(c)]
            z[y] = s * arc_insightface(cy, m)
        elif name == "subcenter-arcface":
            z = [s * cj for cj in c]
            z[y] = s * arc_insightface(c[y], p.get("m", 0.5))
        elif name == "magface":
            la, ua, lm, um = p.get("l_a", 10.0), p.get("u_a", 110.0), p.get("l_m", 0.45), p.get("u_m", 0.8)
            a = clamp(norm(h), la, ua)
            m = (um - lm) / (ua - la) * (a - la) + lm
            z = [s * cj for cj in c]
            z[y] = s * arc_insightface(c[y], m)
            total = total + p.get("lambda_g", 35.0) * (1 / a + a / (ua * ua))
        elif name == "adaface":
            eps, mm, hh = 1e-3, p.get("m", 0.4), p.get("h", 0.333)
            c = [clamp(cj, -1 + eps, 1 - eps) for cj in c]
            nrm = min(100.0, max(0.001, norm(h).v))  # no gradient through the norm
            zs = min(1.0, max(-1.0, (nrm - p.get("mu", 20.0)) / (p.get("sigma", 100.0) + eps) * hh))
            theta = clamp(acos(c[y]) - mm * zs, eps, PI - eps)
            z = [s * cj for cj in c]
            z[y] = s * (cos(theta) - (mm + mm * zs))
        else:
            raise KeyError(name)
        total = total + ce(z, y)
    return total / n


def loss(name, p, H, W, Y):
    n = len(H)
    K = len(W) if W else 0
    if name in ("curricularface", "subcenter-arcface", "magface", "adaface"):
        return modern_loss(name, p, H, W, Y)
    if name in ("softmax", "weighted-softmax", "focal"):
        b = p.get("bias", [0.0] * K)
        tot = V(0.0)
        for h, y in zip(H, Y):
            z = [dot(h, w) + b[j] for j, w in enumerate(W)]
            if name == "softmax":
                tot = tot + ce(z, y)
            elif name == "weighted-softmax":
                tot = tot + p.get("class_weights", [1.0] * K)[y] * ce(z, y)
            else:
                py = softmax_p(z, y)
                tot = tot + (1 - py) ** p.get("gamma", 2.0) * ce(z, y)
        return tot / n
    if name == "coco":
        a = p.get("alpha", 10.0)
        U = [unit(h) for h in H]
        cen = []
        for j in range(K):
            mem = [a * 1.0 for _ in []]
            idx = [i for i in range(n) if Y[i] == j]
            if idx:
                cen.append([sum((a * U[i][k] for i in idx), V(0.0)) / len(idx) for k in range(len(H[0]))])
            else:
                cen.append(W[j])
        cu = [unit(c) for c in cen]
        return sum((ce([a * dot(cu[j], U[i]) for j in range(K)], Y[i]) for i in range(n)), V(0.0)) / n
    if name == "adacos":
        s0 = math.sqrt(2) * math.log(K - 1) if K > 2 else 0.0
        s = s0
        if p.get("adaptive", True):
            cs = [[c.v for c in cosines(h, W)] for h in H]
            B = sum(math.exp(s0 * cs[i][j]) for i in range(n) for j in range(K) if j != Y[i]) / n
            th = sorted(math.acos(min(CLAMP, max(-CLAMP, cs[i][Y[i]]))) for i in range(n))
            s = math.log(B) / math.cos(min(PI / 4, th[(n - 1) // 2]))
        return sum((ce(classifier_logits(name, p, h, W, y, K, s_ada=s), y) for h, y in zip(H, Y)), V(0.0)) / n
    if name in ("modified-softmax", "l-softmax", "a-softmax", "l2-softmax", "normface", "am-softmax", "arcface",
                "combined", "enhanced-am-softmax"):
        return sum((ce(classifier_logits(name, p, h, W, y, K), y) for h, y in zip(H, Y)), V(0.0)) / n
    if name in ("center", "center-invariant"):
        tot = sum((0.5 * sqd(h, W[y]) for h, y in zip(H, Y)), V(0.0)) / n
        if name == "center-invariant":
            r = sum((dot(w, w) for w in W), V(0.0)) / K
            tot = tot + p.get("gamma", 1.0) * sum((0.25 * (dot(W[y], W[y]) - r) ** 2 for y in Y), V(0.0)) / n
        return tot
    if name == "range":
        k = int(p.get("k", 2))
        tot = V(0.0)
        for j in range(K):
            idx = [i for i in range(n) if Y[i] == j]
            D = sorted((sqd(H[a], H[b]) for ai, a in enumerate(idx) for b in idx[ai + 1:]), key=lambda d: -d.v)[:k]
            if D:
                tot = tot + p.get("intra_weight", 1.0) * len(D) / sum((1 / d for d in D), V(0.0))
        Dc = [sqd(W[a], W[b]) for a in range(K) for b in range(a + 1, K)]
        if Dc:
            tot = tot + p.get("inter_weight", 1.0) * relu(p.get("margin", 1.0) - min(Dc, key=lambda d: d.v))
        return tot
    U = [unit(h) for h in H]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    if name == "marginal":
        th, xi = p.get("theta", 1.2), p.get("xi", 0.3)
        return sum((relu(xi - (1 if Y[i] == Y[j] else -1) * (th - sqd(U[i], U[j]))) for i, j in pairs),
                   V(0.0)) / max(1, len(pairs))
    if name == "contrastive":
        m = p.get("m", 1.0)
        tot = V(0.0)
        for i, j in pairs:
            if Y[i] == Y[j]:
                tot = tot + 0.5 * sqd(U[i], U[j])
            else:
                tot = tot + 0.5 * relu(m - sqrt(sqd(U[i], U[j]))) ** 2
        return tot / max(1, len(pairs))
    trip = [(a, q, r) for a in range(n) for q in range(n) for r in range(n)
            if q != a and Y[q] == Y[a] and Y[r] != Y[a]]
    if name == "triplet":
        m, mining = p.get("m", 0.2), p.get("mining", "all")
        if mining == "hard":
            terms = []
            for a in range(n):
                P = [q for q in range(n) if q != a and Y[q] == Y[a]]
                N = [r for r in range(n) if Y[r] != Y[a]]
                if P and N:
                    dp = max((sqd(U[a], U[q]) for q in P), key=lambda d: d.v)
                    dn = min((sqd(U[a], U[r]) for r in N), key=lambda d: d.v)
                    terms.append(relu(dp - dn + m))
        else:
            terms = []
            for a, q, r in trip:
                dp, dn = sqd(U[a], U[q]), sqd(U[a], U[r])
                if mining == "semi-hard" and not (dp.v < dn.v < dp.v + m):
                    continue
                terms.append(relu(dp - dn + m))
        return sum(terms, V(0.0)) / max(1, len(terms))
    if name == "tse":
        al = p.get("alpha", 0.2)
        return sum((relu(al + dot(U[a], U[r]) - dot(U[a], U[q])) for a, q, r in trip), V(0.0)) / max(1, len(trip))
    if name == "tpe":
        return sum((ce([dot(U[a], U[q]), dot(U[a], U[r])], 0) for a, q, r in trip), V(0.0)) / max(1, len(trip))
    raise KeyError(name)


CASES = [
    ("softmax", {}), ("softmax", {"bias": "K"}), ("weighted-softmax", {"class_weights": "K"}),
    ("focal", {"gamma": 2.0}), ("focal", {"gamma": 0.5}), ("modified-softmax", {}),
    ("l-softmax", {"m": 3, "lambda": 0.0}), ("l-softmax", {"m": 4, "lambda": 2.5}), ("a-softmax", {"m": 4}),
    ("a-softmax", {"m": 2, "lambda": 1.0}), ("l2-softmax", {"alpha": 6.0}), ("normface", {"s": 8.0}),
    ("coco", {"alpha": 5.0}), ("am-softmax", {"s": 12.0, "m": 0.3}), ("arcface", {"s": 10.0, "m": 0.5}),
    ("arcface", {"s": 10.0, "m": 1.4, "variant": "insightface"}), ("arcface", {"s": 10.0, "m": 0.7, "variant": "easy"}),
    ("arcface", {"s": 10.0, "m": 0.7, "variant": "plain"}), ("combined", {"s": 9.0, "m1": 1.2, "m2": 0.3, "m3": 0.1}),
    ("enhanced-am-softmax", {"s": 9.0}), ("enhanced-am-softmax", {"s": 9.0, "negative_margin": False}),
    ("adacos", {}), ("adacos", {"adaptive": False}), ("center", {}), ("center-invariant", {"gamma": 0.5}),
    ("range", {"k": 2, "margin": 6.0}), ("marginal", {}), ("contrastive", {"m": 1.2}), ("triplet", {"m": 0.6}),
    ("triplet", {"m": 0.6, "mining": "semi-hard"}), ("triplet", {"m": 0.6, "mining": "hard"}),
    ("tse", {"alpha": 0.3}), ("tpe", {}),
    ("curricularface", {"s": 10.0, "m": 0.5, "t": 0.3}), ("curricularface", {"s": 10.0, "m": 1.4}),
    ("subcenter-arcface", {"s": 10.0, "m": 0.5, "k": 3}), ("subcenter-arcface", {"s": 10.0, "m": 1.4, "k": 2}),
    ("subcenter-arcface", {"s": 10.0, "k": 1}), ("magface", {"s": 10.0}),
    ("magface", {"s": 10.0, "l_a": 0.5, "u_a": 5.0, "l_m": 0.3, "u_m": 0.9, "lambda_g": 3.0}),
    ("adaface", {"s": 10.0}), ("adaface", {"s": 10.0, "mu": 2.0, "sigma": 1.0, "m": 0.6}),
]
NO_WEIGHTS = {"contrastive", "triplet", "tse", "tpe"}


def main():
    binary = sys.argv[1]
    rng = random.Random(7)
    worst, failed = 0.0, 0
    # Every loss of the catalogue has a case here: a new loss without an independent reference fails.
    catalogue = json.loads(subprocess.run([binary, "losses", "--json"], capture_output=True, text=True).stdout)
    missing = sorted({l["name"] for l in catalogue} - {name for name, _ in CASES})
    if missing:
        print("FAIL: no reference case for " + ", ".join(missing))
        failed += 1
    for n, d, K in [(6, 2, 3), (9, 3, 5), (5, 4, 7)]:
        for name, params in CASES:
            H = [[rng.gauss(0, 1.5) for _ in range(d)] for _ in range(n)]
            rows = K * int(params.get("k", 3)) if name == "subcenter-arcface" else K
            W = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(rows)]
            Y = [i % K if i < K else rng.randrange(K) for i in range(n)]
            p = {k: ([rng.uniform(0.3, 2) for _ in range(K)] if v == "K" else v) for k, v in params.items()}
            req = {"loss": name, "params": p, "features": H, "labels": Y}
            if name not in NO_WEIGHTS:
                req["weights"] = W
            res = subprocess.run([binary, "eval-loss"], input=json.dumps(req), capture_output=True, text=True)
            if res.returncode != 0:
                print("FAIL %s %s: exit %d %s" % (name, params, res.returncode, res.stderr.strip()))
                failed += 1
                continue
            got = json.loads(res.stdout)
            Hv = [[V(x) for x in row] for row in H]
            Wv = [[V(x) for x in row] for row in W] if name not in NO_WEIGHTS else None
            L = loss(name, p, Hv, Wv, Y)
            backward(L)
            pairs = [(got["loss"], L.v)]
            pairs += [(got["grad_features"][i][k], Hv[i][k].g) for i in range(n) for k in range(d)]
            if Wv:
                pairs += [(got["grad_weights"][j][k], Wv[j][k].g) for j in range(len(W)) for k in range(d)]
            scale = max(1e-3, max(abs(b) for _, b in pairs[1:]))
            err = abs(pairs[0][0] - pairs[0][1]) / max(1.0, abs(pairs[0][1]))
            err = max([err] + [abs(a - b) / max(scale, abs(b)) for a, b in pairs[1:]])
            worst = max(worst, err)
            status = "ok" if err < 1e-6 else "FAIL"
            failed += status == "FAIL"
            print("%s: %s %s n=%d d=%d K=%d loss=%.6g max rel err %.2e" % (status, name, params, n, d, K, L.v, err))
    print("worst relative error %.2e, %d failed" % (worst, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
