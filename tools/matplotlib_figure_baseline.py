#!/usr/bin/python3
"""The figure a researcher would script by hand: PyTorch trains, matplotlib draws. Baseline for timing
`marginscope render` (README, "Figures").

  time /usr/bin/python3 tools/matplotlib_figure_baseline.py --out /tmp/fig.png --svg /tmp/fig.svg

Same setup as assets/presets/default.json with --steps 500: six 2-D Gaussian blobs (200 per class, spread
0.8), MLP 2-64-64-2 (ReLU), ArcFace (s = 30, m = 0.5, insightface variant), Adam (lr 0.005, weight decay
5e-4), batch 256, 500 steps. Then the circle figure at 1600 x 1200: decision regions as wedges, ArcFace margin
bands hatched, test-time boundaries, the points projected on the unit circle (test points hollow), the class
weights as arrows, and a caption. Boundaries are found as marginscope does: fine sampling of the angle plus
bisection. A by-hand tool; CI does not run it.
"""
import argparse
import math
import time

t_start = time.perf_counter()
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.patches import Wedge, FancyArrow  # noqa: E402

t_imported = time.perf_counter()

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442"]


def arcface_logits(cos, y, s, m):
    # Deng et al. 2019, eq. (3), insightface variant: cos(t + m) where t + m < pi, else cos t - m sin m.
    cos = cos.clamp(-1 + 1e-7, 1 - 1e-7)
    cy = cos.gather(1, y[:, None])
    sin = (1 - cy * cy).clamp_min(0).sqrt()
    target = cy * math.cos(m) - sin * math.sin(m)
    target = torch.where(cy > math.cos(math.pi - m), target, cy - math.sin(math.pi - m) * m)
    return cos.scatter(1, y[:, None], target) * s


def target_logit(c, s, m):
    t = np.arccos(np.clip(c, -1 + 1e-7, 1 - 1e-7))
    return np.where(t + m < math.pi, s * np.cos(t + m), s * (c - math.sin(math.pi - m) * m))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/baseline.png")
    ap.add_argument("--svg", default="/tmp/baseline.svg")
    ap.add_argument("--steps", type=int, default=500)
    args = ap.parse_args()
    torch.manual_seed(1)
    np.random.seed(1)
    K, n, s, m = 6, 200, 30.0, 0.5
    centres = np.stack([[math.cos(2 * math.pi * k / K), math.sin(2 * math.pi * k / K)] for k in range(K)]) * 3
    X = np.concatenate([centres[k] + 0.8 * 3 * math.sin(math.pi / K) * np.random.randn(n, 2) for k in range(K)])
    Y = np.repeat(np.arange(K), n)
    perm = np.random.permutation(len(Y))
    X, Y = X[perm], Y[perm]
    n_test = len(Y) // 4
    Xtr, Ytr = torch.tensor(X[n_test:], dtype=torch.float32), torch.tensor(Y[n_test:])
    Xte, Yte = torch.tensor(X[:n_test], dtype=torch.float32), torch.tensor(Y[:n_test])

    net = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                              torch.nn.Linear(64, 2))
    W = torch.nn.Parameter(torch.randn(K, 2))
    opt = torch.optim.Adam(list(net.parameters()) + [W], lr=0.005, weight_decay=5e-4)
    for step in range(args.steps):
        idx = torch.randint(0, len(Ytr), (256,))
        h = net(Xtr[idx])
        cos = F.normalize(h, dim=1) @ F.normalize(W, dim=1).t()
        loss = F.cross_entropy(arcface_logits(cos, Ytr[idx], s, m), Ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    t_trained = time.perf_counter()

    with torch.no_grad():
        Htr, Hte = net(Xtr).numpy(), net(Xte).numpy()
        w = F.normalize(W, dim=1).numpy()
    acc = lambda H, Yt: float(np.mean(np.argmax(H @ w.T, 1) == Yt.numpy()))  # noqa: E731

    # Decision structure on the circle: winner (argmax cos) and claim (target > max other), sampled + bisected.
    def labels(phi):
        x = np.stack([np.cos(phi), np.sin(phi)], -1)
        c = x @ w.T
        win = np.argmax(c, -1)
        other = np.where(np.eye(K, dtype=bool)[win], -np.inf, s * c).max(-1)
        claimed = target_logit(c[np.arange(len(phi)), win], s, m) > other
        return win, np.where(claimed, win, -1)

    phi = np.linspace(0, 2 * math.pi, 4096, endpoint=False)
    win, claim = labels(phi)

    def edges(lab, which):
        out = []
        for i in np.nonzero(lab != np.roll(lab, -1))[0]:
            lo, hi = phi[i], phi[i] + 2 * math.pi / 4096
            for _ in range(50):
                mid = 0.5 * (lo + hi)
                if labels(np.array([mid]))[which][0] == lab[i]:
                    lo = mid
                else:
                    hi = mid
            out.append((0.5 * (lo + hi), lab[i], lab[(i + 1) % len(lab)]))
        return sorted(out)

    def arcs(cuts):
        return [(cuts[i][0], cuts[(i + 1) % len(cuts)][0], cuts[i][2]) for i in range(len(cuts))]

    b_edges, m_edges = edges(win, 0), edges(claim, 1)

    fig = plt.figure(figsize=(16, 12), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(-1.75, 1.75)
    ax.set_ylim(-1.35, 1.35)
    ax.set_aspect("equal")
    ax.axis("off")
    for a0, a1, c in arcs(b_edges):
        ax.add_patch(Wedge((0, 0), 1, math.degrees(a0), math.degrees(a1), color=OKABE_ITO[c % 7], alpha=0.22,
                           lw=0))
    for a0, a1, c in arcs(m_edges):
        if c < 0:
            ax.add_patch(Wedge((0, 0), 1, math.degrees(a0), math.degrees(a1), facecolor="#59595f22",
                               edgecolor="#59595f", hatch="//", lw=0))
    ax.add_patch(plt.Circle((0, 0), 1, fill=False, color="#1a1a1f", lw=1.6))
    for a, _, _ in b_edges:
        ax.plot([0, 1.16 * math.cos(a)], [0, 1.16 * math.sin(a)], color="#1a1a1f", lw=1.8)
    for a, c0, c1 in m_edges:
        if c0 >= 0 and c1 >= 0:
            continue
        c = c0 if c0 >= 0 else c1
        ax.plot([0, 1.16 * math.cos(a)], [0, 1.16 * math.sin(a)], color=OKABE_ITO[c % 7], lw=1.6, ls="--")
    for H, Yt, hollow in ((Htr, Ytr, False), (Hte, Yte, True)):
        P = H / np.maximum(np.linalg.norm(H, axis=1, keepdims=True), 1e-12)
        cols = [OKABE_ITO[c % 7] for c in Yt.numpy()]
        if hollow:
            ax.scatter(P[:, 0], P[:, 1], s=36, facecolors="none", edgecolors=cols, linewidths=1.2, zorder=3)
        else:
            ax.scatter(P[:, 0], P[:, 1], s=36, c=cols, edgecolors="#00000066", linewidths=0.6, zorder=3)
    for k in range(K):
        ax.add_patch(FancyArrow(0, 0, 0.8 * w[k, 0], 0.8 * w[k, 1], width=0.006, head_width=0.05,
                                length_includes_head=True, color=OKABE_ITO[k % 7], zorder=4))
        ax.text(0.92 * w[k, 0], 0.92 * w[k, 1], f"W{k}", color=OKABE_ITO[k % 7], fontsize=14, ha="center")
    ax.text(-1.72, 1.28, f"arcface   s = {s:g}   m = {m:g}", fontsize=16)
    ax.text(-1.72, 1.2, f"step {args.steps}   train {100 * acc(Htr, Ytr):.1f}%   test {100 * acc(Hte, Yte):.1f}%",
            fontsize=13, color="#737378")
    fig.savefig(args.out, dpi=100)
    t_png = time.perf_counter()
    fig.savefig(args.svg)
    t_svg = time.perf_counter()
    print(f"import {t_imported - t_start:.2f} s, train {t_trained - t_imported:.2f} s, "
          f"figure+PNG {t_png - t_trained:.2f} s, SVG {t_svg - t_png:.2f} s, total {t_svg - t_start:.2f} s")


if __name__ == "__main__":
    main()
