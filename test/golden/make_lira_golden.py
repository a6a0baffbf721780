#!/usr/bin/python3
"""Golden values for src/privacy/{liraStats,lira}.ts, computed with numpy and scipy.

Run with Debian's python3 (numpy 1.24, scipy 1.10):
    /usr/bin/python3 test/golden/make_lira_golden.py
writes test/golden/lira_golden.json. The LiRA scores are computed the slow, obvious way
(for each target model, np.median / np.mean / np.std of the first K/2 - 1 of the other
models' in and out values, scipy.stats.norm.logpdf and logsf), independent of the TypeScript's running sums.
"""
import json
import os

import numpy as np
import scipy.special as sp
import scipy.stats as st

MAGIC = "spurlab-golden-lira"
VERSION = 1
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lira_golden.json")


def keep_matrix(k, n, seed):
    # The paper's code (research/mi_lira_2021/train.py): uniform draws, argsort down each
    # column, keep where the sorted position holds a model index below K/2.
    u = np.random.RandomState(seed).uniform(0, 1, size=(k, n))
    order = u.argsort(0)
    return order < k // 2


def lira_scores(stats, keep, variant, global_variance, center):
    k_models, n, a_count = stats.shape
    scores = np.zeros((k_models, n))
    for t in range(k_models):
        others = np.array([k for k in range(k_models) if k != t])
        centre_in = np.zeros((n, a_count))
        centre_out = np.zeros((n, a_count))
        sd_in = np.zeros((n, a_count))
        sd_out = np.zeros((n, a_count))
        dev_in = [[] for _ in range(a_count)]
        dev_out = [[] for _ in range(a_count)]
        for i in range(n):
            # as the public code: every side truncated to the smallest count, K/2 - 1,
            # keeping the first models in model order
            ins = stats[others[keep[others, i]], i, :][: k_models // 2 - 1]
            outs = stats[others[~keep[others, i]], i, :][: k_models // 2 - 1]
            pick = np.median if center == "median" else np.mean
            centre_in[i] = pick(ins, 0)
            centre_out[i] = pick(outs, 0)
            sd_in[i] = np.std(ins, 0)
            sd_out[i] = np.std(outs, 0)
            for a in range(a_count):
                dev_in[a].extend(ins[:, a] - ins[:, a].mean())
                dev_out[a].extend(outs[:, a] - outs[:, a].mean())
        if global_variance:
            # pooled within examples: squared deviations from each example's own mean
            for a in range(a_count):
                sd_in[:, a] = np.sqrt(np.mean(np.square(dev_in[a])))
                sd_out[:, a] = np.sqrt(np.mean(np.square(dev_out[a])))
        x = stats[t]
        if variant == "online":
            s = st.norm.logpdf(x, centre_in, sd_in + 1e-30) - st.norm.logpdf(x, centre_out, sd_out + 1e-30)
        else:
            s = -st.norm.logsf(x, centre_out, sd_out + 1e-30)
        scores[t] = s.mean(1)
    return scores


def main():
    rs = np.random.RandomState(2022)
    out = {"magic": MAGIC, "version": VERSION}

    # logit-scaled confidence z_y - logsumexp_{j != y} z_j, including saturated rows
    logits = rs.normal(0, 3, size=(12, 10))
    logits[0, 3] = 80.0
    logits[1, :] = 0.0
    logits[2, 7] = -60.0
    labels = rs.randint(0, 10, size=12)
    labels[0], labels[2] = 3, 7
    conf = [float(logits[i, labels[i]] - sp.logsumexp(np.delete(logits[i], labels[i]))) for i in range(12)]
    out["confidence"] = {"logits": logits.ravel().tolist(), "labels": labels.tolist(), "classes": 10, "expected": conf}

    # normal log density and log upper tail at ordinary and extreme z
    xs = np.array([-40.0, -8.0, -1.5, -0.2, 0.0, 0.7, 1.41, 2.2, 3.9, 7.5, 12.0, 37.0, 150.0])
    mus = np.resize(np.array([0.0, 1.5, -2.0]), xs.size)
    sigmas = np.resize(np.array([1.0, 0.3, 2.5, 0.01]), xs.size)
    out["normal"] = {
        "x": xs.tolist(), "mu": mus.tolist(), "sigma": sigmas.tolist(),
        "logpdf": st.norm.logpdf(xs, mus, sigmas).tolist(), "logsf": st.norm.logsf(xs, mus, sigmas).tolist(),
    }

    # keep matrix of the paper's construction, seed [3, 20]
    K, N, A = 8, 15, 2
    keep = keep_matrix(K, N, [3, 20])
    out["keep"] = {"shadows": K, "pool": N, "seed": [3, 20], "keep": keep.astype(int).ravel().tolist()}

    # shadow-model statistics: members more confident, one example far more so
    base = rs.normal(2.0, 1.5, size=(1, N, 1))
    stats = base + rs.normal(0, 0.4, size=(K, N, A)) + 1.2 * keep[:, :, None] * rs.uniform(0.5, 1.5, size=(1, N, 1))
    stats[:, 4, :] += 5.0 * keep[:, 4, None]
    cases = []
    for variant in ("online", "offline"):
        for global_variance in (False, True):
            for center in ("median", "mean"):
                s = lira_scores(stats, keep, variant, global_variance, center)
                cases.append({"variant": variant, "globalVariance": global_variance, "center": center, "scores": s.ravel().tolist()})
    out["lira"] = {"shadows": K, "pool": N, "queries": A, "stats": stats.ravel().tolist(), "keep": keep.astype(int).ravel().tolist(), "cases": cases}

    with open(OUT, "w") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    main()
