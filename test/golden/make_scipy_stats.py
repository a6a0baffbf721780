#!/usr/bin/python3
"""Golden values for src/experiments/stats.ts, computed with scipy.

Run with Debian's python3 (numpy 1.24, scipy 1.10):
    /usr/bin/python3 test/golden/make_scipy_stats.py
writes test/golden/scipy_stats.json. Non-finite floats are written as the strings
"nan", "inf", "-inf" because JSON has no literal for them. 0/1 vectors are written as
strings of '0'/'1' characters to keep the file small.
"""
import json
import os
import warnings

import numpy as np
import scipy
import scipy.stats as st

MAGIC = "spurlab-golden-scipy-stats"
VERSION = 3
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scipy_stats.json")

warnings.simplefilter("ignore")  # constant inputs warn; their nan results are the point


def num(v):
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def vec(x):
    x = np.asarray(x)
    if np.all((x == 0) | (x == 1)) and x.size > 50:
        return "".join("1" if v else "0" for v in x)
    return [num(v) for v in x]


def welch_df(a, b):
    # scipy 1.10's ttest_ind does not return df; this is its _unequal_var_ttest_denom.
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    vn1 = np.var(a, ddof=1) / a.size
    vn2 = np.var(b, ddof=1) / b.size
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (vn1 + vn2) ** 2 / (vn1 ** 2 / (a.size - 1) + vn2 ** 2 / (b.size - 1))
    return 1.0 if np.isnan(df) else df


def welch_case(name, a, b):
    case = {"name": name, "a": vec(a), "b": vec(b), "df": num(welch_df(a, b))}
    for alt in ("two-sided", "greater", "less"):
        r = st.ttest_ind(np.asarray(a, float), np.asarray(b, float), equal_var=False, alternative=alt)
        case[alt] = {"t": num(r.statistic), "pValue": num(r.pvalue)}
    return case


def corr_case(name, fn, x, y):
    case = {"name": name, "x": vec(x), "y": vec(y)}
    for alt in ("two-sided", "greater", "less"):
        r = fn(np.asarray(x, float), np.asarray(y, float), alternative=alt)
        case[alt] = {"r": num(r.statistic), "pValue": num(r.pvalue)}
    return case


def mwu_case(name, x, y):
    case = {"name": name, "x": vec(x), "y": vec(y)}
    for alt in ("two-sided", "greater", "less"):
        r = st.mannwhitneyu(np.asarray(x, float), np.asarray(y, float), alternative=alt, method="auto", use_continuity=True)
        case[alt] = {"u": num(r.statistic), "pValue": num(r.pvalue)}
    return case


def mean_diff(a, b, axis=-1):
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def permutation_case(name, x, y):
    # n_resamples = inf: scipy enumerates every split (exact), as spurlab does for small counts.
    case = {"name": name, "x": vec(x), "y": vec(y)}
    for alt in ("two-sided", "greater", "less"):
        r = st.permutation_test((np.asarray(x, float), np.asarray(y, float)), mean_diff, permutation_type="independent",
                                alternative=alt, n_resamples=np.inf, vectorized=True)
        case[alt] = {"statistic": num(r.statistic), "pValue": num(r.pvalue)}
    return case


def bootstrap_case(name, x, level=0.95):
    # Percentile intervals from 10^6 resamples: spurlab's own seeded resamples must land
    # within Monte Carlo error of these.
    x = np.asarray(x, float)
    r = st.bootstrap((x,), np.mean, confidence_level=level, n_resamples=1_000_000, method="percentile",
                     vectorized=True, random_state=np.random.RandomState(7))
    return {"name": name, "x": vec(x), "level": level, "low": num(r.confidence_interval.low),
            "high": num(r.confidence_interval.high), "std": num(np.std(x, ddof=1))}


def one_sample_case(name, x, mu=0.0):
    case = {"name": name, "x": vec(x), "mu": mu}
    for alt in ("two-sided", "greater", "less"):
        r = st.ttest_1samp(np.asarray(x, float), mu, alternative=alt)
        case[alt] = {"t": num(r.statistic), "pValue": num(r.pvalue)}
    return case


def describe_case(name, x):
    x = np.asarray(x, float)
    return {"name": name, "x": vec(x), "mean": num(np.mean(x)), "std": num(np.std(x, ddof=1)),
            "sem": num(st.sem(x)), "ranks": [num(v) for v in st.rankdata(x)] if x.size <= 50 else None}


def main():
    rng = np.random.RandomState(12345)
    bern = lambda n, p: (rng.rand(n) < p).astype(np.uint8)

    base = bern(10000, 0.030)
    welch = [
        welch_case("bernoulli 10000, p .033 vs .030", bern(10000, 0.033), base),
        welch_case("bernoulli 10000, p .036 vs .030", bern(10000, 0.036), base),
        welch_case("bernoulli 10000, p .5 vs .49", bern(10000, 0.5), bern(10000, 0.49)),
        welch_case("bernoulli 20000 vs 10000 (unequal sizes)", bern(20000, 0.031), base),
        welch_case("bernoulli 10000 identical groups", base, base.copy()),
        welch_case("all ones vs all zeros (both variances 0)", np.ones(10000), np.zeros(10000)),
        welch_case("all zeros vs all zeros (identical constants)", np.zeros(10000), np.zeros(10000)),
        welch_case("bernoulli vs all zeros (one variance 0)", bern(10000, 0.002), np.zeros(10000)),
        welch_case("tiny n=2 vs n=3", [1.0, 2.5], [0.5, 0.7, 3.1]),
        welch_case("tiny n=3 with ties", [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]),
        welch_case("tiny n=2 identical", [0.2, 0.4], [0.2, 0.4]),
        welch_case("normal 15 vs 40", rng.normal(0.3, 1, 15), rng.normal(0, 2, 40)),
        welch_case("far apart (tiny p-value)", rng.normal(5, 1, 30), rng.normal(0, 1, 30)),
        welch_case("3 runs vs 3 baseline runs (per-run scores)", [0.8983, 0.8998, 0.9029], [0.0653, 0.0021, 0.3685]),
        welch_case("3 runs vs 3 baseline runs of zero", [0.02, 0.05, 0.01], [0.0, 0.0, 0.0]),
    ]

    x20 = rng.normal(size=20)
    pearson = [
        corr_case("normal n=20 weak", st.pearsonr, x20, 0.3 * x20 + rng.normal(size=20)),
        corr_case("normal n=200 strong", st.pearsonr, *(lambda x: (x, x + 0.5 * rng.normal(size=200)))(rng.normal(size=200))),
        corr_case("n=3", st.pearsonr, [1.0, 2.0, 4.0], [0.1, 0.5, 0.2]),
        corr_case("n=2", st.pearsonr, [1.0, 2.0], [3.0, 1.0]),
        corr_case("perfect n=5", st.pearsonr, [1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 4.0, 6.0, 8.0, 10.0]),
        corr_case("pattern norms vs scores (7 patterns)", st.pearsonr,
                  [1.0, 3.0, 5.0, 4.12, 8.05, 15.9, 4.69], [0.02, 0.31, 0.55, 0.18, 0.47, 0.81, 0.12]),
        corr_case("constant y", st.pearsonr, [1.0, 2.0, 3.0], [1.0, 1.0, 1.0]),
    ]
    spearman = [
        corr_case("ties n=10", st.spearmanr, [1, 2, 2, 3, 3, 3, 4, 5, 5, 6], [2, 1, 4, 3, 3, 6, 5, 5, 8, 7]),
        corr_case("normal n=30", st.spearmanr, *(lambda x: (x, x + rng.normal(size=30)))(rng.normal(size=30))),
        corr_case("n=3 with ties", st.spearmanr, [1.0, 2.0, 3.0], [3.0, 1.0, 1.0]),
        corr_case("n=3 perfect", st.spearmanr, [1.0, 2.0, 3.0], [10.0, 20.0, 30.0]),
        corr_case("n=2", st.spearmanr, [1.0, 2.0], [3.0, 1.0]),
        corr_case("constant x", st.spearmanr, [2.0, 2.0, 2.0, 2.0], [1.0, 2.0, 3.0, 4.0]),
    ]
    describe = [
        describe_case("five scores", [0.12, 0.5, 0.33, 0.0, 0.91]),
        describe_case("ties", [3.0, 1.0, 3.0, 2.0, 1.0, 3.0]),
        describe_case("n=2", [1.0, 4.0]),
        describe_case("n=1", [7.0]),
        describe_case("bernoulli 10000", base),
    ]

    # Per-run spurious scores as the demo and sweeps produce them: 3-5 runs a setting.
    runs_r3 = [0.8983, 0.8998, 0.9029]
    runs_base = [0.0653, 0.0021, 0.3685]
    mwu = [
        mwu_case("3 runs vs 3 baseline runs, no ties", runs_r3, runs_base),
        mwu_case("5 vs 4, no ties", [0.31, 0.12, 0.55, 0.47, 0.2], [0.05, 0.11, 0.02, 0.3]),
        mwu_case("3 vs 3 with ties (zeros)", [0.0, 0.02, 0.05], [0.0, 0.0, 0.01]),
        mwu_case("identical samples", [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
        mwu_case("10 vs 12 normal (asymptotic)", rng.normal(0.5, 1, 10), rng.normal(0, 1, 12)),
    ]
    permutation = [
        permutation_case("3 runs vs 3 baseline runs", runs_r3, runs_base),
        permutation_case("5 vs 4", [0.31, 0.12, 0.55, 0.47, 0.2], [0.05, 0.11, 0.02, 0.3]),
        permutation_case("3 vs 3 with ties", [0.0, 0.02, 0.05], [0.0, 0.0, 0.01]),
        permutation_case("identical constant samples", [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
        permutation_case("2 vs 3", [0.4, 0.6], [0.1, 0.5, 0.2]),
        permutation_case("6 vs 6 normal", rng.normal(0.3, 1, 6), rng.normal(0, 1, 6)),
    ]
    bootstrap = [
        bootstrap_case("3 runs", runs_r3),
        bootstrap_case("3 baseline runs (one outlier)", runs_base),
        bootstrap_case("5 runs", [0.31, 0.12, 0.55, 0.47, 0.2]),
        bootstrap_case("20 normal, 90%", rng.normal(0.4, 0.1, 20), level=0.9),
    ]

    # Per-seed differences and correlations the reproduction tests over runs (fixed
    # vectors, no draws: the cases above keep their random numbers).
    one_sample = [
        one_sample_case("3 per-seed correlations", [0.62, 0.81, 0.44]),
        one_sample_case("3 paired differences, one negative", [0.12, -0.03, 0.2]),
        one_sample_case("5 values against mu 0.5", [0.61, 0.55, 0.7, 0.48, 0.66], mu=0.5),
        one_sample_case("constant at mu (undefined)", [0.0, 0.0, 0.0]),
        one_sample_case("constant above mu", [0.3, 0.3, 0.3]),
        one_sample_case("n=2", [0.1, 0.4]),
    ]

    doc = {
        "magic": MAGIC,
        "version": VERSION,
        "generator": "test/golden/make_scipy_stats.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "welch": welch,
        "pearson": pearson,
        "spearman": spearman,
        "describe": describe,
        "mannwhitneyu": mwu,
        "permutation": permutation,
        "bootstrap": bootstrap,
        "ttest_1samp": one_sample,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
