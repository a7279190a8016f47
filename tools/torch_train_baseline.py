#!/usr/bin/python3
"""PyTorch baseline for bench/bench_train.cpp: the same networks, loss, optimiser and batch on ONE thread.

  /usr/bin/python3 tools/torch_train_baseline.py [--seconds 5] [--dtype float32|float64]

Networks (as in the C++ benchmark): the default live network (2-D blobs, K = 10, MLP 2-64-64-3) and the
Fashion-MNIST network (784-256-256-3, K = 10), batch 256, ArcFace (s = 64, m = 0.5, insightface variant),
Adam (lr 1e-3, L2 weight decay 5e-4). Each step: gather a batch, forward, loss, backward, Adam - like a
Trainer::step. Inputs are random (speed does not depend on the values). A by-hand tool; CI does not run it.
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


def arcface(h, w, y, s=64.0, m=0.5):
    # Deng et al. 2019, eq. (3), insightface variant: cos(t + m) where t + m < pi, else cos t - m sin m.
    cos = F.normalize(h, dim=1) @ F.normalize(w, dim=1).t()
    cos = cos.clamp(-1 + 1e-7, 1 - 1e-7)
    cy = cos.gather(1, y[:, None])
    sin = (1 - cy * cy).clamp_min(0).sqrt()
    target = cy * math.cos(m) - sin * math.sin(m)
    target = torch.where(cy > math.cos(math.pi - m), target, cy - math.sin(math.pi - m) * m)
    logits = cos.scatter(1, y[:, None], target) * s
    return F.cross_entropy(logits, y)


def run(name, widths, n_train, seconds, dtype):
    torch.manual_seed(1)
    K, batch = 10, 256
    X = torch.randn(n_train, widths[0], dtype=dtype)
    Y = torch.randint(0, K, (n_train,))
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]).to(dtype))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    W = torch.nn.Parameter(torch.randn(K, widths[-1], dtype=dtype))
    opt = torch.optim.Adam(list(net.parameters()) + [W], lr=1e-3, weight_decay=5e-4)
    macs = sum(widths[i] * widths[i + 1] for i in range(len(widths) - 1))
    flops = 2 * batch * (2 * macs + (macs - widths[0] * widths[1]))  # forward, dW, dX (not of the input)

    def step():
        idx = torch.randint(0, n_train, (batch,))
        loss = arcface(net(X[idx]), W, Y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    n, t0 = 0, time.process_time()
    while time.process_time() - t0 < seconds:
        step()
        n += 1
    dt = time.process_time() - t0
    print(f"{name:28s} {str(dtype):14s} {n / dt:10.1f} steps/s  {n / dt * flops * 1e-9:6.2f} GFLOP/s (CPU time, 1 thread)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    a = ap.parse_args()
    dtypes = [torch.float32, torch.float64] if a.dtype == "both" else [getattr(torch, a.dtype)]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for dt in dtypes:
        run("live 2-64-64-3 K=10", [2, 64, 64, 3], 4000, a.seconds, dt)
        run("fashion 784-256-256-3 K=10", [784, 256, 256, 3], 20000, a.seconds, dt)


if __name__ == "__main__":
    main()
