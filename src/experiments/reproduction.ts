// Planning a reproduction of the paper (issue 22): which findings, their sweeps (from
// grids/reproduction.ts), how many runs each adds and how long they take here. The
// findings share runs (finding 2 reads finding 1's), so each run is counted and
// estimated once, under the first finding listed that needs it.
import { UserError } from '../util/errors.ts';
import type { ResultsStore } from '../store/results.ts';
import type { PlannedRun } from './kinds/index.ts';
import { planSweep, type SweepSpec } from './grids/spec.ts';
import { BUDGETS, FINDINGS, FINDING_IDS, reproductionSweep, type Budget, type Finding, type FindingId } from './grids/reproduction.ts';
import { estimateSweep } from './sweep.ts';

export { BUDGETS, FINDINGS, FINDING_IDS, type Budget, type Finding, type FindingId };

export function parseBudget(raw: string | undefined): Budget {
  if (raw === undefined) return 'fast';
  if (!(BUDGETS as readonly string[]).includes(raw)) throw new UserError(`--budget ${raw}: expected one of ${BUDGETS.join(', ')}`);
  return raw as Budget;
}

/**
 * The findings --only names, in the paper's order: a comma-separated list of names or
 * numbers (1-6); all six when absent.
 */
export function parseOnly(raw: string | undefined): FindingId[] {
  if (raw === undefined) return [...FINDING_IDS];
  const wanted = new Set<FindingId>();
  for (const part of raw.split(',').map((s) => s.trim())) {
    const f = FINDINGS.find((x) => x.id === part || String(x.number) === part);
    if (!f)
      throw new UserError(
        `--only ${raw}: "${part}" is not a finding; expected one or more of ${FINDINGS.map((x) => `${x.number} ${x.id}`).join(', ')} (comma-separated)`,
      );
    wanted.add(f.id);
  }
  return FINDING_IDS.filter((id) => wanted.has(id));
}

export interface FindingPlan {
  finding: Finding;
  sweep: SweepSpec;
  runs: PlannedRun[];
  /** Runs no earlier finding of the plan has (the ones this piece adds). */
  newRuns: PlannedRun[];
  /** Earlier findings of the plan whose runs this one reuses. */
  reuses: FindingId[];
}

export function planReproduction(budget: Budget, only: readonly FindingId[]): FindingPlan[] {
  const owner = new Map<string, FindingId>();
  return only.map((id) => {
    const finding = FINDINGS.find((f) => f.id === id)!;
    const sweep = reproductionSweep(budget, id);
    const runs = planSweep(sweep);
    const reuses = new Set<FindingId>();
    const newRuns: PlannedRun[] = [];
    for (const r of runs) {
      const earlier = owner.get(r.key);
      if (earlier) reuses.add(earlier);
      else {
        owner.set(r.key, id);
        newRuns.push(r);
      }
    }
    return { finding, sweep, runs, newRuns, reuses: [...reuses] };
  });
}

export function kindCounts(runs: readonly { kind: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of runs) out[r.kind] = (out[r.kind] ?? 0) + 1;
  return out;
}

export interface FindingEstimate {
  finding: FindingId;
  number: number;
  title: string;
  sweep: string;
  runs: number;
  kinds: Record<string, number>;
  newRuns: number;
  reuses: FindingId[];
  done: number;
  remaining: number;
  seconds: number;
  /** Remaining runs whose estimate is the measured time of like runs in the store. */
  fromMeasured: number;
  outsideStore?: string;
}

/** Per finding the runs, what is done in the store, and the estimated time of the rest here. */
export function estimateReproduction(plans: readonly FindingPlan[], store: ResultsStore): FindingEstimate[] {
  return plans.map((p) => {
    const est = estimateSweep(p.newRuns, store);
    return {
      finding: p.finding.id,
      number: p.finding.number,
      title: p.finding.title,
      sweep: p.sweep.name,
      runs: p.runs.length,
      kinds: kindCounts(p.runs),
      newRuns: p.newRuns.length,
      reuses: p.reuses,
      done: est.done,
      remaining: est.remaining,
      seconds: est.seconds,
      fromMeasured: est.fromMeasured,
      ...(p.finding.outsideStore ? { outsideStore: p.finding.outsideStore } : {}),
    };
  });
}
