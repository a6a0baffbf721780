// Exact Hessian-vector products by double backward: H v = d/dθ (∇θ L · v).
import type { Tensor } from '../tensor/tensor.ts';
import { grad } from './tape.ts';

/** H v for the scalar loss built by lossFn over params; v matches params' shapes. */
export function hessianVectorProduct(lossFn: () => Tensor, params: Tensor[], v: Tensor[]): Tensor[] {
  const loss = lossFn();
  const g = grad(loss, params, { createGraph: true });
  let dot: Tensor | null = null;
  g.forEach((gi, i) => {
    const term = gi!.mul(v[i]).sum();
    dot = dot ? dot.add(term) : term;
  });
  const hv = grad(dot!, params, { allowUnused: true });
  return hv.map((h, i) => (h ? h.detach() : params[i].zerosLike()));
}
