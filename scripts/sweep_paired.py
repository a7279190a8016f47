#!/usr/bin/env python3
"""Paired differences between two losses of a sweep, seed by seed (same seed: same data, split and
initial weights), with a 95% Student-t interval of the mean difference. Complements the per-configuration
intervals of summary.csv, which ignore the pairing and are wider.

    scripts/sweep_paired.py results/ am-softmax enhanced-am-softmax     # prints B - A per other setting
"""
import glob
import json
import math
import os
import sys
from collections import defaultdict

T975 = [float("nan"), 12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281]
METRICS = [
    ("test accuracy", lambda j: j.get("test_accuracy")),
    ("TAR@FAR=1e-3", lambda j: j["verification"].get("tar_at_far_1e-3")),
    ("TAR@FAR=1e-2", lambda j: j["verification"].get("tar_at_far_1e-2")),
    ("EER", lambda j: j["verification"].get("eer")),
    ("identification", lambda j: j["verification"].get("identification_accuracy_all")),
    ("min inter-class angle", lambda j: j["angles"].get("inter_center_min_deg")),
]


def main():
    folder, loss_a, loss_b = sys.argv[1:4]
    runs = defaultdict(dict)  # (other settings) -> {(loss, seed): json}
    for path in glob.glob(os.path.join(folder, "*.json")):
        j = json.load(open(path))
        if "config" not in j:
            continue
        c = dict(j["config"])
        loss, seed = c.pop("loss"), c.pop("seed")
        runs[json.dumps(c["params"], sort_keys=True)][(loss, seed)] = j
    for setting, by in sorted(runs.items()):
        seeds = sorted(s for (l, s) in by if l == loss_a and (loss_b, s) in by)
        print(f"{setting}: {loss_b} - {loss_a}, {len(seeds)} paired seeds")
        for name, get in METRICS:
            d = []
            for s in seeds:
                a, b = get(by[(loss_a, s)]), get(by[(loss_b, s)])
                if a is not None and b is not None:
                    d.append(b - a)
            n = len(d)
            if n < 2:
                print(f"  {name}: {n} pairs")
                continue
            mean = sum(d) / n
            sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
            half = (T975[n - 1] if n - 1 < len(T975) else 1.96) * sd / math.sqrt(n)
            print(f"  {name}: {mean:+.4g}  95% CI [{mean - half:+.4g}, {mean + half:+.4g}]  "
                  f"({sum(x > 0 for x in d)}/{n} seeds higher)")


if __name__ == "__main__":
    main()
