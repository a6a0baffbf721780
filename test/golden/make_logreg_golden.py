#!/usr/bin/python3
"""Golden optima for src/privacy/logisticRegression.ts, computed with scipy.optimize.

The objective is scikit-learn's L2 logistic regression with an unpenalized intercept:
    0.5 * ||w||^2 + C * sum_i log(1 + exp(-s_i * (x_i . w + b))),  s_i = 2 y_i - 1.
scipy minimizes it with its trust-region method on the exact gradient and Hessian to a
gradient norm of 1e-12, independently of spurlab's Newton solver.

Run with Debian's python3 (numpy 1.24, scipy 1.10):
    /usr/bin/python3 test/golden/make_logreg_golden.py
writes test/golden/logreg_golden.json (floats written with repr, so exactly).
"""
import json
import os

import numpy as np
import scipy
import scipy.optimize as opt
from scipy.special import expit

MAGIC = "spurlab-golden-logreg"
VERSION = 1
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "logreg_golden.json")


def objective(theta, X, y, C):
    w, b = theta[:-1], theta[-1]
    z = X @ w + b
    m = np.where(y == 1, z, -z)
    return 0.5 * w @ w + C * np.sum(np.logaddexp(0.0, -m))


def gradient(theta, X, y, C):
    w, b = theta[:-1], theta[-1]
    r = C * (expit(X @ w + b) - y)
    return np.concatenate([w + X.T @ r, [r.sum()]])


def hessian(theta, X, y, C):
    w, b = theta[:-1], theta[-1]
    p = expit(X @ w + b)
    c = C * p * (1 - p)
    d = X.shape[1]
    Xb = np.hstack([X, np.ones((len(X), 1))])
    H = Xb.T @ (c[:, None] * Xb)
    H[:d, :d] += np.eye(d)
    return H


def solve(X, y, C):
    theta0 = np.zeros(X.shape[1] + 1)
    res = opt.minimize(objective, theta0, args=(X, y, C), jac=gradient, hess=hessian,
                       method="trust-exact", options={"gtol": 1e-12, "maxiter": 1000})
    g = gradient(res.x, X, y, C)
    assert np.max(np.abs(g)) < 1e-8 * max(1.0, C * len(X)), (C, np.max(np.abs(g)))
    return res.x, float(res.fun)


def make_case(name, X, y, Cs):
    out = {"name": name, "rows": int(X.shape[0]), "cols": int(X.shape[1]),
           "x": [float(v) for v in X.ravel()], "y": [int(v) for v in y], "optima": []}
    for C in Cs:
        theta, fun = solve(X, y, C)
        out["optima"].append({"C": C, "coef": [float(v) for v in theta[:-1]],
                              "intercept": float(theta[-1]), "objective": fun})
    return out


def main():
    rs = np.random.RandomState(0)
    cases = []

    # Overlapping classes, 5 features.
    X = rs.randn(200, 5)
    w = np.array([1.5, -2.0, 0.5, 0.0, 1.0])
    y = (rs.rand(200) < expit(X @ w + 0.3)).astype(int)
    cases.append(make_case("overlap 200x5", X, y, [0.01, 0.1, 1.0, 10.0]))

    # Imbalanced, features on different scales, a nearly separable direction.
    X = rs.randn(150, 3) * np.array([0.1, 3.0, 1.0]) + np.array([0.0, 1.0, -2.0])
    y = (rs.rand(150) < expit(20 * X[:, 0] + 0.5 * X[:, 1] - 2.0)).astype(int)
    cases.append(make_case("imbalanced 150x3", X, y, [0.01, 1.0, 100.0]))

    # Attack-like features: a sorted softmax vector (descending) plus 0/1 correctness.
    logits = rs.randn(300, 4) * 3
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    correct = (rs.rand(300) < 0.8).astype(float)
    X = np.hstack([-np.sort(-p, axis=1), correct[:, None]])
    y = (rs.rand(300) < expit(4 * X[:, 0] + correct - 3)).astype(int)
    cases.append(make_case("softmax-like 300x5", X, y, [0.1, 10.0]))

    doc = {"magic": MAGIC, "version": VERSION, "generator": "test/golden/make_logreg_golden.py",
           "scipy": scipy.__version__, "numpy": np.__version__, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
