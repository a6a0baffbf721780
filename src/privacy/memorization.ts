// Feldman and Zhang's memorization estimate (NeurIPS 2020) from the same in/out models as
// LiRA: mem(i) = P[model right on x_i | trained on it] - P[right | not trained on it],
// each probability the share of the models of that side that classify x_i correctly, with
// the binomial standard error of the difference of two independent shares.

export interface MemorizationEstimate {
  memorization: Float64Array; // [N]
  se: Float64Array; // [N]
  accIn: Float64Array; // [N] share of in-models right on the example
  accOut: Float64Array; // [N]
  countIn: Int32Array; // [N]
  countOut: Int32Array; // [N]
}

/** correct and keep: [K, N] 0/1, model k right on / trained on example i. */
export function memorizationScores(correct: Uint8Array, keep: Uint8Array, shadows: number, poolSize: number): MemorizationEstimate {
  if (correct.length !== shadows * poolSize || keep.length !== shadows * poolSize) {
    throw new RangeError(`memorization: correct has ${correct.length} and keep ${keep.length} entries, expected K*N = ${shadows}*${poolSize}`);
  }
  const est: MemorizationEstimate = {
    memorization: new Float64Array(poolSize),
    se: new Float64Array(poolSize),
    accIn: new Float64Array(poolSize),
    accOut: new Float64Array(poolSize),
    countIn: new Int32Array(poolSize),
    countOut: new Int32Array(poolSize),
  };
  for (let i = 0; i < poolSize; i++) {
    let nIn = 0,
      nOut = 0,
      rightIn = 0,
      rightOut = 0;
    for (let k = 0; k < shadows; k++) {
      const c = correct[k * poolSize + i];
      if (c !== 0 && c !== 1) throw new RangeError(`memorization: correct[${k}, ${i}] is ${c}, expected 0 or 1`);
      if (keep[k * poolSize + i]) {
        nIn++;
        rightIn += c;
      } else {
        nOut++;
        rightOut += c;
      }
    }
    const pIn = nIn ? rightIn / nIn : NaN;
    const pOut = nOut ? rightOut / nOut : NaN;
    est.accIn[i] = pIn;
    est.accOut[i] = pOut;
    est.countIn[i] = nIn;
    est.countOut[i] = nOut;
    est.memorization[i] = pIn - pOut;
    est.se[i] = Math.sqrt((pIn * (1 - pIn)) / nIn + (pOut * (1 - pOut)) / nOut);
  }
  return est;
}

/**
 * Rank of each asked-for example among all (1 = the most memorized): one plus the number
 * of examples with a strictly larger estimate, so ties share the best rank.
 */
export function memorizationRanks(memorization: Float64Array, examples: readonly number[]): number[] {
  const sorted = Float64Array.from(memorization).sort();
  return examples.map((i) => {
    const v = memorization[i];
    // Count of values > v in the ascending array: its length minus the upper bound of v.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    return 1 + sorted.length - lo;
  });
}

export function meanOf(values: ArrayLike<number>, examples?: readonly number[]): number {
  let sum = 0;
  let count = 0;
  const n = examples ? examples.length : values.length;
  for (let j = 0; j < n; j++) {
    const v = values[examples ? examples[j] : j];
    if (Number.isFinite(v)) {
      sum += v;
      count++;
    }
  }
  return count ? sum / count : NaN;
}

/** Counts of estimates in the 20 bins of width 0.1 from -1 to 1 (the last bin closed). */
export function memorizationHistogram(memorization: Float64Array): { edges: number[]; counts: number[] } {
  const edges = Array.from({ length: 21 }, (_, j) => Math.round((-1 + j * 0.1) * 10) / 10);
  const counts = new Array<number>(20).fill(0);
  for (const v of memorization) {
    if (!Number.isFinite(v)) continue;
    counts[Math.min(19, Math.max(0, Math.floor((v + 1) * 10 + 1e-9)))]++;
  }
  return { edges, counts };
}
