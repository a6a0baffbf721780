#!/usr/bin/env python3
"""PyTorch CPU peer for spurlab's benchmarks: the anchor to beat, at its BEST thread setting.

Needs Debian's PyTorch with OpenBLAS (run once, as root):
    apt-get install -y python3-torch libopenblas0-pthread
Run it with Debian's interpreter, in the same benchmark run as spurlab's own figures:
    /usr/bin/python3 bench/torch_peer.py [--cores 2] [--seconds 3] [--json] [--only a,b]

Why "best setting": PyTorch's own intra-op threads and OpenBLAS's thread pool are separate.
On a 2-core machine torch.set_num_threads(2) with OpenBLAS's default pool oversubscribes the
cores and runs LargeMLP training ~3x slower than torch 1 thread + OpenBLAS 2 threads. A fair
peer is the one a careful user would run, so every workload is timed in a fresh child process
under each (torch threads, OpenBLAS threads) pair within --cores, and the best rate counts.
The JSON names the winning setting of each workload ("config").

Workloads (random inputs, cross-entropy):
  train_LargeMLP   one Adam step of LargeMLP (784-256-256-256-10), batch 128        images/s
  train_CNN002     one Adam step of CNN002 on 1x28x28, batch 128                   images/s
  eval_LargeMLP    forward pass in eval mode, batch 1000                           images/s
  hvp_LargeMLP     one exact Hessian-vector product (double backward), batch of 1  HVP/s
  train_ResNet20   one SGD step (lr 0.1, momentum 0.9, wd 1e-4) of ResNet20 (option-A
                   shortcuts, BatchNorm) on 3x32x32, batch 128                     images/s
  eval_ResNet20    forward pass in eval mode, batch 500                            images/s
"""
import argparse, json, os, subprocess, sys, time

WORKLOADS = ['train_LargeMLP', 'train_CNN002', 'eval_LargeMLP', 'hvp_LargeMLP', 'train_ResNet20', 'eval_ResNet20']


def child(names, torch_threads, seconds):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.manual_seed(0)
    torch.set_num_threads(torch_threads)

    class LargeMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.ModuleList([nn.Linear(784, 256), nn.Linear(256, 256), nn.Linear(256, 256), nn.Linear(256, 10)])

        def forward(self, x):
            for i, layer in enumerate(self.l):
                x = layer(x)
                if i < 3:
                    x = F.relu(x)
            return x

    def cnn002():
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1024, 200), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))

    class Block(nn.Module):
        def __init__(s, i, o, st):
            super().__init__()
            s.c1, s.b1 = nn.Conv2d(i, o, 3, st, 1, bias=False), nn.BatchNorm2d(o)
            s.c2, s.b2 = nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o)
            s.pad = (o - i) if (st != 1 or i != o) else None

        def forward(s, x):
            out = s.b2(s.c2(F.relu(s.b1(s.c1(x)))))
            sc = x if s.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, s.pad // 2, s.pad // 2))
            return F.relu(out + sc)

    class ResNet20(nn.Module):
        def __init__(s):
            super().__init__()
            s.c, s.b = nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16)
            layers, i = [], 16
            for o, st in [(16, 1), (32, 2), (64, 2)]:
                for k in range(3):
                    layers.append(Block(i, o, st if k == 0 else 1))
                    i = o
            s.layers, s.fc = nn.Sequential(*layers), nn.Linear(64, 10)

        def forward(s, x):
            return s.fc(F.adaptive_avg_pool2d(s.layers(F.relu(s.b(s.c(x)))), 1).flatten(1))

    def timed(fn):
        for _ in range(3):
            fn()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            fn()
            n += 1
        return n / (time.perf_counter() - t0)

    def train_rate(model, shape, opt):
        x, y = torch.rand(128, *shape), torch.randint(0, 10, (128,))
        model.train()

        def step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        return 128 * timed(step)

    def eval_rate(model, shape, batch):
        model.eval()
        x = torch.rand(batch, *shape)

        def fwd():
            with torch.no_grad():
                model(x)
        return batch * timed(fwd)

    def hvp_rate(model):
        params = list(model.parameters())
        v = [torch.randn_like(p) for p in params]
        x, y = torch.rand(1, 784), torch.randint(0, 10, (1,))

        def hvp():
            g = torch.autograd.grad(F.cross_entropy(model(x), y), params, create_graph=True)
            torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, v)), params)
        return timed(hvp)

    def adam(m):
        return torch.optim.Adam(m.parameters(), lr=0.01)

    run = {
        'train_LargeMLP': lambda: (lambda m: train_rate(m, (784,), adam(m)))(LargeMLP()),
        'train_CNN002': lambda: (lambda m: train_rate(m, (1, 28, 28), adam(m)))(cnn002()),
        'eval_LargeMLP': lambda: eval_rate(LargeMLP(), (784,), 1000),
        'hvp_LargeMLP': lambda: hvp_rate(LargeMLP()),
        'train_ResNet20': lambda: (lambda m: train_rate(m, (3, 32, 32), torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)))(ResNet20()),
        'eval_ResNet20': lambda: eval_rate(ResNet20(), (3, 32, 32), 500),
    }
    out = {name: run[name]() for name in names}
    out['torch'] = torch.__version__
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cores', '--threads', dest='cores', type=int, default=2, help='cores the peer may use (spurlab uses the same)')
    ap.add_argument('--seconds', type=float, default=3.0, help='timing window per workload and setting')
    ap.add_argument('--only', default=','.join(WORKLOADS), help='comma-separated workloads')
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--torch-threads', type=int, default=1, help=argparse.SUPPRESS)
    a = ap.parse_args()
    names = [w for w in a.only.split(',') if w]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        sys.exit(f'unknown workload(s) {unknown}; known: {WORKLOADS}')
    if a.child:
        child(names, a.torch_threads, a.seconds)
        return
    best, config, version = {}, {}, None
    for t in range(1, a.cores + 1):
        for b in range(1, a.cores + 1):
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(b), OMP_NUM_THREADS=str(t))
            r = subprocess.run([sys.executable, __file__, '--child', '--torch-threads', str(t), '--seconds', str(a.seconds), '--only', ','.join(names)],
                               env=env, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f'peer child failed (torch {t}, OpenBLAS {b}): {r.stderr.strip().splitlines()[-1:]}')
            got = json.loads(r.stdout.strip().splitlines()[-1])
            version = got.pop('torch')
            for k, v in got.items():
                if v > best.get(k, 0):
                    best[k], config[k] = v, f'torch {t} / OpenBLAS {b} threads'
    out = dict(best, torch=version, cores=a.cores, config=config)
    if a.json:
        print(json.dumps(out))
    else:
        for k in names:
            print(f'{k}: {best[k]:.1f}  ({config[k]})')


if __name__ == '__main__':
    main()
