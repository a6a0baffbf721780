/**
 * Number formatting shared by tables and chart titles, so a value reads the same in the
 * HTML, the Markdown, the LaTeX and the figures. A missing value (NaN, e.g. the p-value
 * of a baseline row, or a SEM from a single seed) prints as an en dash.
 */

export const MISSING = '–';

/** Where the text goes: LaTeX needs math mode for exponents and escaped percent signs. */
export type TextTarget = 'plain' | 'latex';

/** A score or probability in [0, 1]: three decimals. */
export function formatScore(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : MISSING;
}

/** An accuracy as a percentage with one decimal. */
export function formatPercent(v: number, target: TextTarget = 'plain'): string {
  if (!Number.isFinite(v)) return MISSING;
  return `${(100 * v).toFixed(1)}${target === 'latex' ? '\\%' : '%'}`;
}

/**
 * A p-value: three decimals down to 0.001, scientific notation with two significant
 * digits below (p-values of pooled per-image tests reach 1e-100 and below).
 */
export function formatPValue(p: number, target: TextTarget = 'plain'): string {
  if (!Number.isFinite(p)) return MISSING;
  // 0 means below the smallest double (or an infinite t): say so rather than print an exact 0.
  if (p === 0) return target === 'latex' ? '$<10^{-300}$' : '< 1e-300';
  if (p >= 0.001) {
    // next to the 0.05 line three decimals print 0.0496 and 0.0504 alike as 0.050: add
    // decimals until the printed value lies on p's side of the line
    const side = (v: number) => Math.sign(v - 0.05);
    let digits = 3;
    let text = p.toFixed(digits);
    while (digits < 8 && side(Number(text)) !== side(p)) text = p.toFixed(++digits);
    return text;
  }
  const [mantissa, exponent] = p.toExponential(1).split('e');
  const exp = Number(exponent);
  return target === 'latex' ? `$${mantissa}\\times 10^{${exp}}$` : `${mantissa}e${exp}`;
}

/** A general number (a learning rate, a regularization strength): compact, exact for round values. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return MISSING;
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return v.toExponential().replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

/**
 * The p-value of a test against the baseline as tables and the demo print it: "0.31 n.s."
 * at or above alpha, else formatPValue; without a test, the reason ("1 run", "baseline").
 */
export function formatTestP(p: number, note = '', target: TextTarget = 'plain', alpha = 0.05): string {
  if (Number.isNaN(p)) return note || MISSING;
  if (p >= alpha) return `${p.toFixed(2)} n.s.`;
  return formatPValue(p, target);
}

/** "0.512 ± 0.034" (mean ± SEM over runs); the mean alone without a SEM (one run). */
export function formatMeanSem(mean: number, sem: number, format: (v: number) => string = formatScore): string {
  if (!Number.isFinite(mean)) return MISSING;
  return Number.isFinite(sem) ? `${format(mean)} ± ${format(sem)}` : format(mean);
}

/** A share's mean ± SEM in percent, one decimal and one "%": "62.5 ± 21.7%". */
export function formatPercentMeanSem(mean: number, sem: number): string {
  return formatMeanSem(mean, sem, (v) => (100 * v).toFixed(1)) + (Number.isFinite(mean) ? '%' : '');
}

/** A 95% interval "0.021–0.368" (three decimals, as scores). */
export function formatInterval(lo: number, hi: number): string {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return MISSING;
  return `${formatScore(lo)}–${formatScore(hi)}`;
}
