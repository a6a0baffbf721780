// numpy's legacy `numpy.random.RandomState`, reproduced number for number: MT19937 with
// numpy's seeding, the 53-bit doubles of `rand`, the masked-rejection integers of
// `randint`/`shuffle`, the polar Gaussian with its cached second value, and legacy
// `choice`. The reference code picks spurious examples and draws its noise image with
// these, so any deviation changes which images are patterned. Verified against vectors
// from numpy in test/golden/numpy_random.json (made by test/golden/make_numpy_random.py).

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_32 = 4294967296;

/** An int in [0, 2**32 - 1] (init_genrand) or a non-empty list of them (init_by_array). */
export type Seed = number | readonly number[];

/** What numpy's `get_state()` returns, minus the generator name. */
export interface RandomStateSnapshot {
  key: number[];
  pos: number;
  hasGauss: boolean;
  gauss: number;
}

/** Anything indexable and writable: arrays and typed arrays. */
export interface MutableArrayLike<T> {
  readonly length: number;
  [index: number]: T;
}

export interface ChoiceOptions {
  replace?: boolean;
  /** Probabilities, one per population element; must sum to 1 (within sqrt(eps)). */
  p?: readonly number[];
}

function checkSeedWord(v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`RandomState seed: got ${v}, expected an integer between 0 and 2**32 - 1`);
  }
}

function checkSize(size: number, what: string): void {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`${what}: size ${size} must be a non-negative integer`);
}

/** numpy's gen_mask: the smallest all-ones mask covering max (max < 2**53). */
function maskCovering(max: number): number {
  if (max <= 0xffffffff) {
    let m = max >>> 0;
    m |= m >>> 1;
    m |= m >>> 2;
    m |= m >>> 4;
    m |= m >>> 8;
    m |= m >>> 16;
    return m >>> 0;
  }
  const bits = Math.floor(Math.log2(max)) + 1;
  let mask = 2 ** bits - 1;
  // log2 can round up at exact powers of two; the mask must be the smallest one >= max.
  while (mask >= max * 2 + 1) mask = (mask - 1) / 2;
  while (mask < max) mask = mask * 2 + 1;
  return mask;
}

export class RandomState {
  private readonly key = new Uint32Array(N);
  private pos = N;
  private hasGauss = false;
  private gauss = 0;

  constructor(seed: Seed) {
    this.seed(seed);
  }

  /** Reseeds as numpy's `_legacy_seeding` does and clears the cached Gaussian. */
  seed(seed: Seed): void {
    if (typeof seed === 'number') {
      checkSeedWord(seed);
      this.initGenrand(seed);
    } else {
      if (seed.length === 0) throw new RangeError('RandomState seed: a seed array must be non-empty');
      seed.forEach(checkSeedWord);
      this.initByArray(seed);
    }
    this.hasGauss = false;
    this.gauss = 0;
  }

  private initGenrand(s: number): void {
    const key = this.key;
    key[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = key[i - 1];
      key[i] = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + i) >>> 0;
    }
    this.pos = N;
  }

  private initByArray(initKey: readonly number[]): void {
    const mt = this.key;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, initKey.length); k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = ((mt[i] ^ Math.imul((prev ^ (prev >>> 30)) >>> 0, 1664525)) >>> 0) + initKey[j] + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= initKey.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = ((mt[i] ^ Math.imul((prev ^ (prev >>> 30)) >>> 0, 1566083941)) >>> 0) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
    this.pos = N;
  }

  private regenerate(): void {
    const key = this.key;
    let i = 0;
    let y: number;
    for (; i < N - M; i++) {
      y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
      key[i] = key[i + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; i < N - 1; i++) {
      y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
      key[i] = key[i + M - N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (key[N - 1] & UPPER_MASK) | (key[0] & LOWER_MASK);
    key[N - 1] = key[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }

  /** The next tempered 32-bit output, as an unsigned number. */
  nextUint32(): number {
    if (this.pos === N) this.regenerate();
    let y = this.key[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A uniform double in [0, 1) with 53 random bits (numpy's random_sample). */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `random_sample(size)`. */
  randomSample(size: number): Float64Array {
    checkSize(size, 'randomSample');
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = this.random();
    return out;
  }

  /** `rand(d0, d1, ...)`, flattened in C order (so rand(H, W, C) is an HWC image). */
  rand(...shape: number[]): Float64Array {
    return this.randomSample(shape.reduce((a, b) => a * b, 1));
  }

  /**
   * numpy's random_interval: a uniform integer in [0, max] by masked rejection. 64-bit
   * draws (max >= 2**32) take the first 32-bit output as the high word; max < 2**53.
   */
  randomInterval(max: number): number {
    if (!Number.isInteger(max) || max < 0 || max > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`randomInterval: max ${max} must be an integer in [0, 2**53)`);
    }
    if (max === 0) return 0;
    const mask = maskCovering(max);
    if (max <= 0xffffffff) {
      let v: number;
      do v = (this.nextUint32() & mask) >>> 0;
      while (v > max);
      return v;
    }
    const highMask = Math.floor(mask / TWO_32);
    let v: number;
    do {
      const high = this.nextUint32() & highMask;
      const low = this.nextUint32();
      v = high * TWO_32 + low;
    } while (v > max);
    return v;
  }

  /** `randint(low, high)`: one integer in [low, high). */
  randint(low: number, high: number): number;
  /** `randint(low, high, size)`: integers in [low, high) (dtype int64, masked rejection). */
  randint(low: number, high: number, size: number): number[];
  randint(low: number, high: number, size?: number): number | number[] {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || low >= high) {
      throw new RangeError(`randint: need integers low < high, got low=${low}, high=${high}`);
    }
    const range = high - 1 - low;
    if (size === undefined) return low + this.randomInterval(range);
    checkSize(size, 'randint');
    const out = new Array<number>(size);
    for (let i = 0; i < size; i++) out[i] = low + this.randomInterval(range);
    return out;
  }

  /** A standard normal by the legacy polar method; every second call returns the cached value. */
  standardNormal(): number {
    if (this.hasGauss) {
      const cached = this.gauss;
      this.hasGauss = false;
      this.gauss = 0;
      return cached;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.random() - 1;
      x2 = 2 * this.random() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /** `randn(d0, d1, ...)`, flattened in C order. */
  randn(...shape: number[]): Float64Array {
    const size = shape.reduce((a, b) => a * b, 1);
    checkSize(size, 'randn');
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = this.standardNormal();
    return out;
  }

  /** `normal(loc, scale)`: loc + scale * standard normal. */
  normal(loc = 0, scale = 1): number {
    return loc + scale * this.standardNormal();
  }

  normalArray(loc: number, scale: number, size: number): Float64Array {
    checkSize(size, 'normalArray');
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = this.normal(loc, scale);
    return out;
  }

  /** `uniform(low, high)`: low + (high - low) * random(). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  uniformArray(low: number, high: number, size: number): Float64Array {
    checkSize(size, 'uniformArray');
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = this.uniform(low, high);
    return out;
  }

  /** Legacy in-place Fisher-Yates: for i from n-1 down to 1, swap x[i] with x[random_interval(i)]. */
  shuffle<T>(x: MutableArrayLike<T>): void {
    for (let i = x.length - 1; i >= 1; i--) {
      const j = this.randomInterval(i);
      const t = x[i];
      x[i] = x[j];
      x[j] = t;
    }
  }

  /** `permutation(n)` (a shuffled arange) or a shuffled copy of an array. */
  permutation(n: number): number[];
  permutation<T>(values: readonly T[]): T[];
  permutation<T>(arg: number | readonly T[]): number[] | T[] {
    if (typeof arg === 'number') {
      checkSize(arg, 'permutation');
      const out = Array.from({ length: arg }, (_, i) => i);
      this.shuffle(out);
      return out;
    }
    const out = arg.slice();
    this.shuffle(out);
    return out;
  }

  /**
   * Legacy `choice(a, size, replace, p)`: without replacement and without p it is
   * `permutation(len(a))[:size]`; with replacement, `randint(0, len(a), size)`; with p,
   * inverse-CDF sampling on numpy's cumsum (repeated rounds when replace is false).
   */
  choice(a: number, size: number, options?: ChoiceOptions): number[];
  choice<T>(a: readonly T[], size: number, options?: ChoiceOptions): T[];
  choice<T>(a: number | readonly T[], size: number, options: ChoiceOptions = {}): number[] | T[] {
    const popSize = typeof a === 'number' ? a : a.length;
    checkSize(size, 'choice');
    checkSize(popSize, 'choice population');
    if (popSize === 0 && size !== 0) throw new RangeError('choice: the population is empty but samples were requested');
    const replace = options.replace ?? true;
    const p = options.p;
    if (p) checkProbabilities(p, popSize);
    let idx: number[];
    if (replace) {
      idx = p ? searchSortedRight(normalizedCdf(p), this.randomSample(size)) : this.randint(0, popSize, size);
    } else {
      if (size > popSize) {
        throw new RangeError(`choice: cannot take ${size} samples from a population of ${popSize} without replacement`);
      }
      idx = p ? this.choiceWeightedUnique(p, size) : this.permutation(popSize).slice(0, size);
    }
    if (typeof a === 'number') return idx;
    return idx.map((i) => a[i]);
  }

  private choiceWeightedUnique(p: readonly number[], size: number): number[] {
    if (p.filter((v) => v > 0).length < size) throw new RangeError('choice: fewer non-zero entries in p than size');
    const weights = p.slice();
    const found: number[] = [];
    while (found.length < size) {
      const x = this.randomSample(size - found.length);
      for (const f of found) weights[f] = 0;
      const drawn = searchSortedRight(normalizedCdf(weights), x);
      // np.unique(..., return_index) then sorting the indices keeps first occurrences in draw order.
      const seen = new Set<number>();
      for (const d of drawn) {
        if (!seen.has(d)) {
          seen.add(d);
          found.push(d);
        }
      }
    }
    return found;
  }

  getState(): RandomStateSnapshot {
    return { key: Array.from(this.key), pos: this.pos, hasGauss: this.hasGauss, gauss: this.gauss };
  }

  setState(state: RandomStateSnapshot): void {
    if (state.key.length !== N || state.pos < 0 || state.pos > N) {
      throw new RangeError(`RandomState.setState: need ${N} keys and 0 <= pos <= ${N}`);
    }
    this.key.set(state.key);
    this.pos = state.pos;
    this.hasGauss = state.hasGauss;
    this.gauss = state.gauss;
  }
}

/** numpy's kahan_sum, used for the "probabilities sum to 1" check. */
function kahanSum(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = values[0];
  let c = 0;
  for (let i = 1; i < values.length; i++) {
    const y = values[i] - c;
    const t = sum + y;
    c = t - sum - y;
    sum = t;
  }
  return sum;
}

function checkProbabilities(p: readonly number[], popSize: number): void {
  if (p.length !== popSize) throw new RangeError(`choice: p has ${p.length} entries, expected ${popSize}`);
  const total = kahanSum(p);
  if (Number.isNaN(total)) throw new RangeError('choice: probabilities contain NaN');
  if (p.some((v) => v < 0)) throw new RangeError('choice: probabilities are not non-negative');
  if (Math.abs(total - 1) > Math.sqrt(Number.EPSILON)) throw new RangeError(`choice: probabilities sum to ${total}, not 1`);
}

/** `cdf = p.cumsum(); cdf /= cdf[-1]` (sequential sum, as numpy's cumsum). */
function normalizedCdf(p: readonly number[]): Float64Array {
  const cdf = new Float64Array(p.length);
  let acc = 0;
  for (let i = 0; i < p.length; i++) cdf[i] = acc += p[i];
  const last = cdf[p.length - 1];
  for (let i = 0; i < cdf.length; i++) cdf[i] /= last;
  return cdf;
}

/** `sorted.searchsorted(x, side='right')`: the first index whose value exceeds x. */
function searchSortedRight(sorted: Float64Array, xs: Float64Array): number[] {
  return Array.from(xs, (x) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  });
}
