#!/usr/bin/env python3
"""Golden Hessian-vector products from PyTorch's double backward, for spurlab's exact HVPs.

A LargeMLP-shaped MLP (3 hidden ReLU layers) of widths 12-8-8-8-4, in float64, with
weights, input, label and direction v given by closed formulas (repeated in
test/forget/hvp.test.ts), so no random generator has to match. Writes
torch_hvp.json beside this script: the cross-entropy loss, its gradient and H v (the
loss on one example, then the mean over a batch of three), flattened in
model.parameters() order (weight [out, in] row-major, then bias, per layer).

Run: /usr/bin/python3 test/golden/make_torch_hvp.py   (torch 1.13)
"""
import json, math, os
import torch
import torch.nn.functional as F

WIDTHS = [12, 8, 8, 8, 4]


def formula(n, a, b, amp):
    return [amp * math.sin(a * i + b) for i in range(n)]


def params():
    out = []
    for l in range(len(WIDTHS) - 1):
        fin, fout = WIDTHS[l], WIDTHS[l + 1]
        w = torch.tensor(formula(fout * fin, 0.37, 0.1 + l, 0.6), dtype=torch.float64).reshape(fout, fin)
        b = torch.tensor(formula(fout, 0.91, 0.5 + l, 0.2), dtype=torch.float64)
        out += [w.requires_grad_(), b.requires_grad_()]
    return out


def loss_fn(ps, x, y):
    h = x
    for l in range(0, len(ps), 2):
        h = h @ ps[l].T + ps[l + 1]
        if l + 2 < len(ps):
            h = F.relu(h)
    return F.cross_entropy(h, y)


def case(batch):
    ps = params()
    x = torch.tensor(formula(batch * WIDTHS[0], 0.53, 0.3, 0.5), dtype=torch.float64).reshape(batch, WIDTHS[0]).abs()
    y = torch.tensor([(2 + 3 * r) % WIDTHS[-1] for r in range(batch)])
    n = sum(p.numel() for p in ps)
    v = torch.tensor(formula(n, 0.29, 0.7, 1.0), dtype=torch.float64)
    vs, off = [], 0
    for p in ps:
        vs.append(v[off:off + p.numel()].reshape(p.shape))
        off += p.numel()
    loss = loss_fn(ps, x, y)
    g = torch.autograd.grad(loss, ps, create_graph=True)
    hv = torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, vs)), ps)
    flat = lambda ts: [float(t) for t in torch.cat([t.reshape(-1) for t in ts])]
    return {'batch': batch, 'labels': y.tolist(), 'loss': float(loss), 'grad': flat(g), 'hvp': flat(hv)}


def main():
    out = {'magic': 'spurlab-torch-hvp', 'version': 1, 'generator': 'test/golden/make_torch_hvp.py', 'torch': torch.__version__,
           'widths': WIDTHS, 'cases': [case(1), case(3)]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'torch_hvp.json')
    with open(path, 'w') as f:
        json.dump(out, f)
        f.write('\n')
    print(f'wrote {path}')


if __name__ == '__main__':
    main()
