// L2-regularized logistic regression in float64, with scikit-learn's convention: C is the
// inverse regularization strength and the intercept is not penalized,
//   minimize 0.5 ||w||^2 + C * sum_i log(1 + exp(-s_i (x_i . w + b))),  s_i = +1 / -1.
// The attack model has a dozen features, so an exact Newton method (Hessian [d+1, d+1],
// Cholesky solve, backtracking line search) converges to machine precision in a few
// steps, more tightly than sklearn's L-BFGS with tol 1e-4; the golden test pins it to
// scipy.optimize on the same objective.

/** A row-major feature matrix: x[i * cols + j]. */
export interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

export interface LogisticModel {
  coef: Float64Array; // [cols]
  intercept: number;
  C: number;
  iterations: number;
  objective: number;
  gradNorm: number; // max |gradient| at the returned point
}

export interface LogisticOptions {
  maxIter?: number;
  /** Stop when max |gradient| <= tol * max(1, C * rows). */
  tol?: number;
}

export function makeMatrix(rows: number, cols: number, data?: Float64Array): Matrix {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) throw new RangeError(`matrix: ${d.length} values for ${rows} x ${cols}`);
  return { data: d, rows, cols };
}

/** The rows at the given indices, copied. */
export function takeRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float64Array(indices.length * m.cols);
  for (let i = 0; i < indices.length; i++) out.set(m.data.subarray(indices[i] * m.cols, (indices[i] + 1) * m.cols), i * m.cols);
  return makeMatrix(indices.length, m.cols, out);
}

/** log(1 + exp(-m)) without overflow for large |m|. */
function logisticLoss(margin: number): number {
  return margin > 0 ? Math.log1p(Math.exp(-margin)) : -margin + Math.log1p(Math.exp(margin));
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

// Linear scores x_i . w + b for every row.
function scores(x: Matrix, w: ArrayLike<number>, b: number): Float64Array {
  const z = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = b;
    const o = i * x.cols;
    for (let j = 0; j < x.cols; j++) s += x.data[o + j] * w[j];
    z[i] = s;
  }
  return z;
}

/** The regularized objective at (w, b); theta = [w..., b]. */
export function logisticObjective(x: Matrix, y: Uint8Array, C: number, theta: ArrayLike<number>): number {
  const d = x.cols;
  const z = scores(x, theta, theta[d]);
  let loss = 0;
  for (let i = 0; i < x.rows; i++) loss += logisticLoss(y[i] ? z[i] : -z[i]);
  let penalty = 0;
  for (let j = 0; j < d; j++) penalty += theta[j] * theta[j];
  return 0.5 * penalty + C * loss;
}

// Solves A v = r for a symmetric positive definite A ([n, n], row-major) by Cholesky;
// returns null if A is not numerically positive definite.
function choleskySolve(a: Float64Array, r: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  const v = Float64Array.from(r);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) v[i] -= l[i * n + k] * v[k];
    v[i] /= l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) v[i] -= l[k * n + i] * v[k];
    v[i] /= l[i * n + i];
  }
  return v;
}

function checkInputs(x: Matrix, y: Uint8Array, C: number): void {
  if (!(C > 0) || !Number.isFinite(C)) throw new RangeError(`logistic regression: C must be a positive number, got ${C}`);
  if (y.length !== x.rows) throw new RangeError(`logistic regression: ${y.length} labels for ${x.rows} rows`);
  let ones = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] > 1) throw new RangeError(`logistic regression: label ${y[i]} at row ${i}; expected 0 or 1`);
    ones += y[i];
  }
  // With one class only, the unpenalized intercept has no finite optimum.
  if (ones === 0 || ones === y.length)
    throw new RangeError(`logistic regression: the labels must contain both classes (got ${ones} of ${y.length} positive)`);
}

/** Fits the model by Newton's method; y holds 0/1 labels. */
export function fitLogisticRegression(x: Matrix, y: Uint8Array, C: number, opts: LogisticOptions = {}): LogisticModel {
  checkInputs(x, y, C);
  const d = x.cols;
  const n = d + 1; // parameters: w then the intercept
  const maxIter = opts.maxIter ?? 100;
  const gradTol = (opts.tol ?? 1e-10) * Math.max(1, C * x.rows);
  const theta = new Float64Array(n);
  let f = logisticObjective(x, y, C, theta);
  let iterations = 0;
  let gradNorm = Infinity;
  for (; iterations < maxIter; iterations++) {
    const z = scores(x, theta, theta[d]);
    const g = new Float64Array(n);
    const h = new Float64Array(n * n);
    for (let j = 0; j < d; j++) {
      g[j] = theta[j];
      h[j * n + j] = 1;
    }
    for (let i = 0; i < x.rows; i++) {
      const p = sigmoid(z[i]);
      const r = C * (p - y[i]);
      const c = C * p * (1 - p);
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const xj = x.data[o + j];
        g[j] += r * xj;
        const cxj = c * xj;
        for (let k = 0; k <= j; k++) h[j * n + k] += cxj * x.data[o + k];
        h[d * n + j] += cxj;
      }
      g[d] += r;
      h[d * n + d] += c;
    }
    for (let j = 0; j < n; j++) for (let k = j + 1; k < n; k++) h[j * n + k] = h[k * n + j];
    gradNorm = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    if (gradNorm <= gradTol) break;
    const minusG = g.map((v) => -v);
    // A saturated intercept block can make H singular in floating point; a tiny ridge keeps the step a descent direction.
    let step = choleskySolve(h, minusG, n);
    for (let ridge = 1e-12; step === null && ridge < 1e6; ridge *= 100) {
      const hr = h.slice();
      for (let j = 0; j < n; j++) hr[j * n + j] += ridge * Math.max(1, h[j * n + j]);
      step = choleskySolve(hr, minusG, n);
    }
    if (step === null) break;
    const slope = step.reduce((s, v, j) => s + v * g[j], 0);
    let t = 1;
    let next = theta;
    let fNext = f;
    for (let k = 0; k < 60; k++, t *= 0.5) {
      next = theta.map((v, j) => v + t * step[j]);
      fNext = logisticObjective(x, y, C, next);
      if (fNext <= f + 1e-4 * t * slope) break;
    }
    if (!(fNext <= f)) break; // no further progress possible in float64
    const improvement = f - fNext;
    theta.set(next);
    f = fNext;
    if (improvement <= 1e-16 * Math.max(1, Math.abs(f)) && t < 1) break;
  }
  return { coef: theta.slice(0, d), intercept: theta[d], C, iterations, objective: f, gradNorm };
}

/** Decision values x_i . w + b. */
export function decisionFunction(model: LogisticModel, x: Matrix): Float64Array {
  if (x.cols !== model.coef.length) throw new RangeError(`logistic regression: ${x.cols} features, the model has ${model.coef.length}`);
  return scores(x, model.coef, model.intercept);
}

/** P(y = 1 | x) for every row. */
export function predictProba(model: LogisticModel, x: Matrix): Float64Array {
  return decisionFunction(model, x).map(sigmoid);
}

/** 0/1 predictions; a decision value of exactly 0 is class 0, as in sklearn. */
export function predictLabels(model: LogisticModel, x: Matrix): Uint8Array {
  const z = decisionFunction(model, x);
  return Uint8Array.from(z, (v) => (v > 0 ? 1 : 0));
}
