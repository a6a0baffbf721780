// Gradient checks against central finite differences, used by tests and `spurlab doctor`.
import type { Tensor } from '../tensor/tensor.ts';
import { grad } from './tape.ts';
import { hessianVectorProduct } from './hvp.ts';

export interface CheckResult {
  maxRelErr: number; // max over elements of |a - n| / max(1, |a|, |n|)
  worst: string; // where the worst element is, for messages
}

function scaledError(a: number, n: number): number {
  return Math.abs(a - n) / Math.max(1, Math.abs(a), Math.abs(n));
}

/**
 * Compares the autograd gradient of the scalar f(inputs) with central differences.
 * Inputs should be float64 and away from kinks (ReLU at 0, ties in max).
 */
export function gradCheck(f: (inputs: Tensor[]) => Tensor, inputs: Tensor[], h = 1e-6): CheckResult {
  const leaves = inputs.map((t) => t.detach().requireGrad());
  const analytic = grad(f(leaves), leaves, { allowUnused: true }).map((g, i) => (g ? g.values() : leaves[i].zerosLike().data));
  let maxRelErr = 0;
  let worst = '';
  // Not under noGrad: f may itself differentiate (second-derivative checks).
  leaves.forEach((leaf, li) => {
    const data = leaf.data;
    for (let j = 0; j < data.length; j++) {
      const orig = data[j];
      data[j] = orig + h;
      const fp = f(leaves).item();
      data[j] = orig - h;
      const fm = f(leaves).item();
      data[j] = orig;
      const err = scaledError(analytic[li][j], (fp - fm) / (2 * h));
      if (err > maxRelErr) {
        maxRelErr = err;
        worst = `input ${li} element ${j}: autograd ${analytic[li][j]}, numeric ${(fp - fm) / (2 * h)}`;
      }
    }
  });
  return { maxRelErr, worst };
}

/** Compares an exact HVP with central differences of gradients along v. */
export function hvpCheck(lossFn: (params: Tensor[]) => Tensor, params: Tensor[], v: Tensor[], h = 1e-5): CheckResult {
  const leaves = params.map((p) => p.detach().requireGrad());
  const hv = hessianVectorProduct(() => lossFn(leaves), leaves, v);
  const shifted = (sign: number): Float64Array[] => {
    const moved = leaves.map((p, i) => {
      const q = p.detach().zerosLike();
      const pv = p.values();
      const vv = v[i].values();
      for (let j = 0; j < q.data.length; j++) q.data[j] = pv[j] + sign * h * vv[j];
      return q.requireGrad();
    });
    return grad(lossFn(moved), moved, { allowUnused: true }).map((g, i) => Float64Array.from(g ? g.values() : moved[i].zerosLike().data));
  };
  const plus = shifted(1);
  const minus = shifted(-1);
  let maxRelErr = 0;
  let worst = '';
  hv.forEach((t, i) => {
    const a = t.values();
    for (let j = 0; j < a.length; j++) {
      const n = (plus[i][j] - minus[i][j]) / (2 * h);
      const err = scaledError(a[j], n);
      if (err > maxRelErr) {
        maxRelErr = err;
        worst = `param ${i} element ${j}: exact ${a[j]}, numeric ${n}`;
      }
    }
  });
  return { maxRelErr, worst };
}
