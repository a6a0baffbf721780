// Per-example loss, margin, gradient norms, projected gradients and penultimate
// representations over a run's training positions, in chunks: the batched MLP probe for
// MLPs (mlpProbe.ts), one tape gradient per example for any other model.
import { noGrad } from '../autograd/tape.ts';
import type { Dataset } from '../data/dataset.ts';
import { RandomState } from '../data/numpyRandom.ts';
import { hessianEngineFor } from '../forget/hessianEngine.ts';
import type { Module } from '../nn/module.ts';
import { batchLabels, makeBatch, type Layout } from '../train/batches.ts';
import { UserError } from '../util/errors.ts';
import { KroneckerProjection, MlpProbe } from './mlpProbe.ts';

export interface ExampleStats {
  loss: Float64Array; // [N]
  margin: Float64Array; // [N]
  pLabel: Float64Array; // [N]
  gradNormSq: Float64Array | null; // [N]
  projected: Float32Array | null; // [N, k]
  penultimate: Float32Array | null; // [N, hidden]
  hidden: number;
}

export interface StatsWants {
  gradNormSq?: boolean;
  /** Projection size k and what to project (TRAK projects the margin's gradient). */
  projection?: { k: number; of: 'loss' | 'margin'; seed: number };
  penultimate?: boolean;
}

const CHUNK = 1000;
/** Most floats a dense projection matrix (non-MLP models) may take: 200 MB. */
const DENSE_PROJECTION_LIMIT = 5e7;

export function exampleStats(
  model: Module,
  layout: Layout,
  train: Dataset,
  positions: Int32Array,
  want: StatsWants,
  modelName = 'this model',
): ExampleStats {
  model.eval();
  const N = positions.length;
  const probe = MlpProbe.of(model);
  if (want.penultimate && !probe) throw new UserError(`the penultimate representation is read from MLPs only; got ${modelName}`);
  const out: ExampleStats = {
    loss: new Float64Array(N),
    margin: new Float64Array(N),
    pLabel: new Float64Array(N),
    gradNormSq: want.gradNormSq ? new Float64Array(N) : null,
    projected: want.projection ? new Float32Array(N * want.projection.k) : null,
    penultimate: want.penultimate && probe ? new Float32Array(N * probe.hiddenSize) : null,
    hidden: probe ? probe.hiddenSize : 0,
  };
  const kron = probe && want.projection ? new KroneckerProjection(want.projection.k, probe.layers, want.projection.seed) : null;
  const generic = probe ? null : genericGradients(model, want, modelName);
  for (let start = 0; start < N; start += CHUNK) {
    const idx = positions.subarray(start, Math.min(N, start + CHUNK));
    const x = makeBatch(train, idx, { layout });
    const y = batchLabels(train, idx);
    if (probe) {
      const r = noGrad(() =>
        probe.pass(x.values(), y, {
          gradNormSq: want.gradNormSq,
          penultimate: want.penultimate,
          projection: kron && want.projection ? { proj: kron, of: want.projection.of } : undefined,
        }),
      );
      out.loss.set(r.loss, start);
      out.margin.set(r.margin, start);
      out.pLabel.set(r.pLabel, start);
      if (out.gradNormSq && r.gradNormSq) out.gradNormSq.set(r.gradNormSq, start);
      if (out.projected && r.projected) out.projected.set(r.projected, start * want.projection!.k);
      if (out.penultimate && r.penultimate) out.penultimate.set(r.penultimate, start * out.hidden);
    } else {
      generic!(x, y, start, out);
    }
  }
  return out;
}

/** Any model: logits by a forward pass, gradients one example at a time through the tape. */
function genericGradients(model: Module, want: StatsWants, modelName: string) {
  const engine = want.gradNormSq || want.projection ? hessianEngineFor(model, 'tape') : null;
  const P = engine?.size ?? 0;
  const k = want.projection?.k ?? 0;
  if (k * P > DENSE_PROJECTION_LIMIT)
    throw new UserError(
      `a ${k}-dimensional projection of ${modelName}'s ${P} parameters needs a dense ${k} x ${P} matrix (over ${DENSE_PROJECTION_LIMIT} floats); use an MLP, or a smaller --projection`,
    );
  let dense: Float32Array | null = null;
  if (k > 0) {
    const rng = new RandomState([want.projection!.seed, 31]);
    dense = Float32Array.from({ length: k * P }, () => rng.standardNormal() / Math.sqrt(k));
  }
  const g = new Float32Array(P);
  return (x: ReturnType<typeof makeBatch>, y: Int32Array, start: number, out: ExampleStats) => {
    const logits = noGrad(() => model.forward(x)).values();
    const C = logits.length / y.length;
    for (let r = 0; r < y.length; r++) {
      const row = logits.subarray(r * C, (r + 1) * C);
      const max = Math.max(...row);
      let sum = 0;
      let other = -Infinity;
      for (let c = 0; c < C; c++) {
        sum += Math.exp(row[c] - max);
        if (c !== y[r] && row[c] > other) other = row[c];
      }
      out.loss[start + r] = Math.log(sum) + max - row[y[r]];
      out.margin[start + r] = row[y[r]] - other;
      out.pLabel[start + r] = Math.exp(row[y[r]] - max) / sum;
      if (!engine) continue;
      const one = { x: x.slice(0, r, r + 1).contiguous(), y: y.subarray(r, r + 1) };
      engine.gradient(one, g, 'sum');
      if (out.gradNormSq) {
        let s = 0;
        for (let j = 0; j < P; j++) s += g[j] * g[j];
        out.gradNormSq[start + r] = s;
      }
      if (dense && out.projected) {
        const scale = want.projection!.of === 'margin' ? 1 / Math.max(1 - out.pLabel[start + r], 1e-30) : 1;
        for (let j = 0; j < k; j++) {
          let s = 0;
          for (let q = 0; q < P; q++) s += dense[j * P + q] * g[q];
          out.projected[(start + r) * k + j] = s * scale;
        }
      }
    }
  };
}
