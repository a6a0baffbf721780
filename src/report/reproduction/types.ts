/**
 * What the reproduction document (docs/REPRODUCTION.md, `spurlab report --reproduction`)
 * says about one of the paper's findings: a verdict with its reason, the tables of
 * numbers behind it, and which sections of the ordinary report give its figures.
 *
 * Every test here is over runs (seeds): per-seed values are compared or paired, never
 * the test images of one model. A finding's verdict counts how many of its settings
 * show the claimed effect at p < ALPHA: all of them "reproduced", at least half "partly
 * reproduced", fewer "not reproduced".
 */
import type { FindingPlan } from '../../experiments/reproduction.ts';
import type { RunRecord } from '../../store/results.ts';
import type { MeanSem, ReportData } from '../collect.ts';

export { meanSem } from '../collect.ts';
import { formatMeanSem as formatMeanSemOf, formatPercentMeanSem, formatPValue, formatScore } from '../format.ts';
import type { Table, TableColumn } from '../tables.ts';
import { TRAIN_KEYS } from '../../experiments/kinds/train.ts';
import { settingFields } from '../settings.ts';

const TRAINING = new Set(TRAIN_KEYS);

/**
 * The display values of a run's training setting (the train kind's config keys) but
 * `leaveOut`: what the runs of one setting share, whatever the kind adds to its config
 * (a sensitivity run's image count, a forget run's method options).
 */
export function trainingContext(config: Record<string, unknown>, leaveOut: readonly string[]): Record<string, string> {
  return settingFields(Object.fromEntries(Object.entries(config).filter(([k]) => TRAINING.has(k))), leaveOut);
}

export const ALPHA = 0.05;

/** Columns of preformatted text ("0.512 ± 0.034", "p 0.03"): the tables here format their own cells. */
export function textColumns(...headers: string[]): TableColumn[] {
  return headers.map((header) => ({ header, format: 'text' }));
}

export type Verdict = 'reproduced' | 'partly reproduced' | 'not reproduced' | 'inconclusive' | 'not run';

export interface Assessment {
  verdict: Verdict;
  /** One or two sentences: what was counted, and the settings that did not show the effect. */
  reason: string;
  /** The headline tables, shown in the document. */
  tables: Table[];
  /** Per-setting tables, folded under the headline ones. */
  details: Table[];
  notes: string[];
}

/** One finding's runs as the store holds them. */
export interface FindingRuns {
  plan: FindingPlan;
  /** The finding's done runs. */
  done: RunRecord[];
  /** The report's view of exactly those runs. */
  data: ReportData;
}

/**
 * "reproduced" when every tested setting shows the effect, "partly" for at least half;
 * "inconclusive" when no setting could be tested (too few runs, no spread).
 */
export function verdictOf(hits: number, total: number): Verdict {
  if (total === 0) return 'inconclusive';
  if (hits === total) return 'reproduced';
  return 2 * hits >= total ? 'partly reproduced' : 'not reproduced';
}

/** "0.512 ± 0.034" (mean ± SEM over runs); "0.512" for one run. */
export function formatMeanSem(m: MeanSem, format: (v: number) => string = formatScore): string {
  return formatMeanSemOf(m.mean, m.sem, format);
}

/** An accuracy's mean ± SEM in percent, one decimal. */
export function formatAccuracy(m: MeanSem): string {
  return formatPercentMeanSem(m.mean, m.sem);
}

/** A p-value with the reason when there is none. */
export function formatP(p: number, note = 'no test'): string {
  return Number.isFinite(p) ? formatPValue(p) : note;
}

/** The runs of one kind, with a number in their config at `field`. */
export function runsOfKind(runs: RunRecord[], kind: string): RunRecord[] {
  return runs.filter((r) => r.kind === kind && r.result !== null);
}

export function numberAt(v: unknown, ...path: string[]): number {
  let cur: unknown = v;
  for (const p of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined;
  return typeof cur === 'number' ? cur : NaN;
}

/** Groups by a key, keeping the order of first appearance. */
export function groupRuns<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const g = out.get(k);
    if (g) g.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** A list "a, b and c" for reasons. */
export function listOf(items: string[], max = 6): string {
  if (items.length === 0) return '';
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  const text = shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : text;
}

export function notRun(what: string): Assessment {
  return { verdict: 'not run', reason: `No finished runs of this finding in the store yet (${what}).`, tables: [], details: [], notes: [] };
}
