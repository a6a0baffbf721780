// The detection methods: one score per training example, higher = more likely one of
// the few examples that taught the network a spurious correlation.
// - loss, margin: the final model's cross-entropy, and minus its logit margin.
// - grad-norm: the norm of the example's loss gradient at the final model.
// - self-influence (Koh and Liang 2017): |g^T (H + lambda I)^-1 g|, g the example's loss
//   gradient, the inverse-HVP by LiSSA (textbook scaling: lambda = scale * damp) on exact
//   products (the R-operator for MLPs).
// - tracin (Pruthi et al. 2020, TracInCP self-influence): sum over the kept epoch
//   checkpoints of lr * ||g(theta_t)||^2, the example's own contribution to its loss drop.
// - trak (Park et al. 2023): per checkpoint, project the gradients of the margin
//   log(p/(1-p)) to k dimensions (Phi, [N, k]); the self score is
//   phi^T (Phi^T Phi)^-1 phi * (1 - p), a leverage weighted by TRAK's Q; averaged over
//   checkpoints.
// - spectral, activation-clustering: see representations.ts.
// - memorization: Feldman and Zhang's estimate from LiRA's in/out models, read in.
import type { Dataset } from '../data/dataset.ts';
import { RandomState } from '../data/numpyRandom.ts';
import { chooseScale, exampleBatch } from '../forget/groupInfluence.ts';
import { hessianEngineFor, type Batch } from '../forget/hessianEngine.ts';
import { lissaInverseHvp, type ExamplePool } from '../forget/lissa.ts';
import type { Module } from '../nn/module.ts';
import { kernels } from '../backend/registry.ts';
import type { Layout } from '../train/batches.ts';
import { UserError } from '../util/errors.ts';
import { exampleStats } from './gradients.ts';
import { activationClusteringScores, spectralScores } from './representations.ts';

export const DETECT_METHODS = [
  'loss',
  'margin',
  'grad-norm',
  'self-influence',
  'tracin',
  'trak',
  'spectral',
  'activation-clustering',
  'memorization',
] as const;
export type DetectMethod = (typeof DETECT_METHODS)[number];

export function checkDetectMethod(m: string): DetectMethod {
  if (!(DETECT_METHODS as readonly string[]).includes(m))
    throw new UserError(`method: got ${JSON.stringify(m)}, expected one of ${DETECT_METHODS.join(', ')}`);
  return m as DetectMethod;
}

/** A model at one epoch checkpoint and the learning rate of the epoch that led to it. */
export interface ModelAt {
  model: Module;
  epoch: number;
  lr: number;
}

export interface DetectInput {
  model: Module; // the final model
  modelName: string;
  layout: Layout;
  train: Dataset;
  positions: Int32Array; // the data set index of each training position
  checkpoints: ModelAt[]; // kept epoch checkpoints, ascending (tracin, trak)
  memorization?: Float64Array; // per position (memorization)
}

export interface DetectOptions {
  projection: number; // TRAK's k
  trakModels: number; // how many of the last checkpoints TRAK averages over
  damp: number;
  scale: number | 'auto';
  depth: number;
  repeats: number;
  hessianBatch: number; // examples per LiSSA Hessian sample (>= N: the full-batch Hessian)
  components: number; // activation clustering's dimensions
  seed: number;
}

export const DETECT_DEFAULTS: DetectOptions = {
  projection: 256,
  trakModels: 3,
  damp: 0.1,
  scale: 'auto',
  depth: 100,
  repeats: 1,
  hessianBatch: 1,
  components: 10,
  seed: 0,
};

export interface MethodScores {
  scores: Float64Array; // per position
  /** What the method used: checkpoints, LiSSA's scale, HVPs. */
  details: Record<string, number | string>;
}

export function detectScores(method: DetectMethod, input: DetectInput, opts: DetectOptions = DETECT_DEFAULTS): MethodScores {
  const { model, layout, train, positions } = input;
  const stats = (m: Module, want: Parameters<typeof exampleStats>[4]) => exampleStats(m, layout, train, positions, want, input.modelName);
  switch (method) {
    case 'loss':
      return { scores: stats(model, {}).loss, details: {} };
    case 'margin':
      return { scores: stats(model, {}).margin.map((v) => -v), details: {} };
    case 'grad-norm':
      return { scores: stats(model, { gradNormSq: true }).gradNormSq!.map(Math.sqrt), details: {} };
    case 'tracin': {
      const cps = needCheckpoints(input, 'tracin');
      const scores = new Float64Array(positions.length);
      for (const c of cps) {
        const g = stats(c.model, { gradNormSq: true }).gradNormSq!;
        for (let i = 0; i < g.length; i++) scores[i] += c.lr * g[i];
      }
      return { scores, details: { checkpoints: cps.length, epochs: cps.map((c) => c.epoch).join(',') } };
    }
    case 'trak':
      return trakScores(input, opts);
    case 'self-influence':
      return selfInfluenceScores(input, opts);
    case 'spectral': {
      const s = stats(model, { penultimate: true });
      return { scores: spectralScores(s.penultimate!, s.hidden, labelsOf(input), opts.seed), details: { hidden: s.hidden } };
    }
    case 'activation-clustering': {
      const s = stats(model, { penultimate: true });
      return {
        scores: activationClusteringScores(s.penultimate!, s.hidden, labelsOf(input), {
          components: opts.components,
          iterations: 50,
          seed: opts.seed,
        }),
        details: { hidden: s.hidden, components: opts.components },
      };
    }
    case 'memorization': {
      if (!input.memorization)
        throw new UserError(
          'method memorization needs LiRA memorization estimates of the training examples (--memorization FILE, from spurlab lira --export)',
        );
      return { scores: Float64Array.from(input.memorization, (v) => (Number.isNaN(v) ? -Infinity : v)), details: {} };
    }
  }
}

function labelsOf(input: DetectInput): Int32Array {
  return Int32Array.from(input.positions, (i) => input.train.labels[i]);
}

function needCheckpoints(input: DetectInput, method: string): ModelAt[] {
  if (input.checkpoints.length === 0)
    throw new UserError(
      `method ${method} needs the run's epoch checkpoints, and this run kept none: train it with --keep-checkpoints E (every E-th epoch)`,
    );
  return input.checkpoints;
}

function trakScores(input: DetectInput, opts: DetectOptions): MethodScores {
  const models = input.checkpoints.length > 0 ? input.checkpoints.slice(-opts.trakModels) : [{ model: input.model, epoch: NaN, lr: NaN }];
  const N = input.positions.length;
  const k = opts.projection;
  const scores = new Float64Array(N);
  models.forEach((c, m) => {
    const s = exampleStats(
      c.model,
      input.layout,
      input.train,
      input.positions,
      { projection: { k, of: 'margin', seed: opts.seed * 1000 + m } },
      input.modelName,
    );
    const lev = leverages(s.projected!, N, k);
    for (let i = 0; i < N; i++) scores[i] += (lev[i] * (1 - s.pLabel[i])) / models.length;
  });
  return { scores, details: { models: models.length, projection: k } };
}

/**
 * phi_i^T (Phi^T Phi + ridge I)^-1 phi_i for every row of phi ([N, k]): Cholesky of the
 * k x k Gram matrix in float64, then |L^-1 phi_i|^2 by one GEMM. The ridge (1e-8 of the
 * mean diagonal) only keeps a rank-deficient Gram matrix (N < k) factorizable.
 */
export function leverages(phi: Float32Array, N: number, k: number): Float64Array {
  const gram32 = new Float32Array(k * k);
  kernels('float32').matmul(phi, phi, k, N, k, true, false, gram32);
  const g = Float64Array.from(gram32);
  let trace = 0;
  for (let i = 0; i < k; i++) trace += g[i * k + i];
  const ridge = Math.max(1e-8 * (trace / k), 1e-30);
  for (let i = 0; i < k; i++) g[i * k + i] += ridge;
  const l = new Float64Array(k * k); // lower triangular, G = L L^T
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = g[i * k + j];
      for (let q = 0; q < j; q++) s -= l[i * k + q] * l[j * k + q];
      l[i * k + j] = i === j ? Math.sqrt(Math.max(s, ridge)) : s / l[j * k + j];
    }
  }
  const inv = new Float64Array(k * k); // L^-1 by forward substitution, column by column
  for (let c = 0; c < k; c++) {
    for (let i = c; i < k; i++) {
      let s = i === c ? 1 : 0;
      for (let q = c; q < i; q++) s -= l[i * k + q] * inv[q * k + c];
      inv[i * k + c] = s / l[i * k + i];
    }
  }
  const y = new Float32Array(N * k);
  kernels('float32').matmul(phi, Float32Array.from(inv), N, k, k, false, true, y);
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += y[i * k + j] ** 2;
    out[i] = s;
  }
  return out;
}

/** LiSSA's Hessian samples: single examples (the reference), mini-batches, or the whole set. */
export function hessianPool(input: DetectInput, batch: number, seed: number): ExamplePool {
  const { train, positions, layout } = input;
  const N = positions.length;
  if (batch <= 1) return { size: N, example: (i) => exampleBatch(train, [positions[i]], layout) };
  if (batch >= N) {
    const all = exampleBatch(train, positions, layout);
    return { size: 1, example: () => all };
  }
  return {
    size: N,
    example: (i): Batch =>
      exampleBatch(
        train,
        Int32Array.from(new RandomState([seed, 9, i]).randint(0, N, batch), (p) => positions[p]),
        layout,
      ),
  };
}

function selfInfluenceScores(input: DetectInput, opts: DetectOptions): MethodScores {
  const engine = hessianEngineFor(input.model);
  const pool = hessianPool(input, opts.hessianBatch, opts.seed);
  const scale = chooseScale(engine, pool, opts.scale, opts.seed);
  const N = input.positions.length;
  const scores = new Float64Array(N);
  const v = new Float32Array(engine.size);
  let hvps = scale.hvps;
  let rescaled = 0;
  let diverged = 0;
  const lambda = scale.scale * opts.damp;
  for (let i = 0; i < N; i++) {
    engine.gradient(exampleBatch(input.train, [input.positions[i]], input.layout), v, 'sum');
    // An example whose own Hessian exceeds the scale (planted examples are the likely
    // ones, and a sample of 20 misses them) makes LiSSA diverge. Retry at 4 times the
    // scale and a quarter of the damping: the same lambda, so the same quantity.
    for (let attempt = 0; ; attempt++) {
      const f = 4 ** attempt;
      const r = lissaInverseHvp(engine, v, pool, {
        damp: opts.damp / f,
        scale: scale.scale * f,
        depth: opts.depth * Math.min(f, 4),
        repeats: opts.repeats,
        scaling: 'textbook',
        seed: [opts.seed, 5, i],
        normPoints: 8,
      });
      hvps += r.hvps;
      if (r.trace.diverged && attempt < 3) continue;
      if (attempt > 0) rescaled++;
      if (r.trace.diverged) diverged++;
      const h = r.h;
      let s = 0;
      for (let j = 0; j < v.length; j++) s += v[j] * h[j];
      // |.|: where H + lambda I is not positive definite along g (a non-convex loss; the
      // planted examples of test/detect/planted.test.ts do this), the signed form turns
      // negative for the very examples that move their own loss most
      scores[i] = Math.abs(s);
      break;
    }
  }
  if (diverged > N / 2)
    throw new UserError(`self-influence: LiSSA diverged for ${diverged} of ${N} examples at up to 64 times scale ${scale.scale}; raise --scale`);
  return { scores, details: { engine: engine.kind, scale: scale.scale, lambda, depth: opts.depth, repeats: opts.repeats, hvps, rescaled, diverged } };
}
