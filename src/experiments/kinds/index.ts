// The registry of run kinds. Sweeps, the queue, Slurm, `results` and the report look a
// kind up here by the name the store records; adding a kind is adding it to KINDS.
import { runKey } from '../../store/runKey.ts';
import { UserError } from '../../util/errors.ts';
import { detectKind } from './detect.ts';
import { forgetKind } from './forget.ts';
import { liraKind, liraShadowKind } from './lira.ts';
import { miaKind } from './mia.ts';
import { sensitivityKind } from './sensitivity.ts';
import { trainKind } from './train.ts';
import type { AnyRunKind, RunKind } from './types.ts';
import { weightsKind } from './weights.ts';

export const KINDS: readonly AnyRunKind[] = [trainKind, forgetKind, miaKind, sensitivityKind, weightsKind, liraShadowKind, liraKind, detectKind];
export const KIND_NAMES = KINDS.map((k) => k.name);

/** The kind of this name, or a UserError listing the kinds; `where` names the source (an option, a file). */
export function findKind(name: unknown, where = 'kind'): AnyRunKind {
  const kind = KINDS.find((k) => k.name === name);
  if (!kind) throw new UserError(`${where}: unknown kind ${JSON.stringify(name)}; expected one of ${KIND_NAMES.join(', ')}`);
  return kind;
}

/** The store key of a kind's (configured) run. */
export function kindKey<C extends object>(kind: RunKind<C, object>, config: C): string {
  return runKey(kind.storeConfig(config));
}

/** One run of a sweep: its kind, normalized config and key, and its stage (0: no dependencies). */
export interface PlannedRun {
  kind: string;
  config: object;
  key: string;
  stage: number;
}

// The runs a run needs finished first: its train runs and its inputs (runs of other kinds), configured.
function prerequisites(kind: AnyRunKind, config: object): { kind: AnyRunKind; config: object }[] {
  return [
    ...kind.dependencies(config).map((c: object) => ({ kind: trainKind as AnyRunKind, config: trainKind.configure({ ...c }) })),
    ...(kind.inputs?.(config) ?? []).map((r: { kind: string; config: Record<string, unknown> }) => {
      const k = findKind(r.kind);
      return { kind: k, config: k.configure({ ...r.config }) };
    }),
  ];
}

function stageOf(kind: AnyRunKind, config: object): number {
  const pre = prerequisites(kind, config);
  return pre.length === 0 ? 0 : 1 + Math.max(...pre.map((p) => stageOf(p.kind, p.config)));
}

/** Configures a run from a grid point (or a transported config) and keys it. */
export function planRun(kindName: string, input: Record<string, unknown>): PlannedRun {
  const kind = findKind(kindName);
  const config = kind.configure(input);
  return { kind: kind.name, config, key: kindKey(kind, config), stage: stageOf(kind, config) };
}

/** The keys of the runs a planned run needs finished first (train runs and inputs). */
export function prerequisiteKeys(run: { kind: string; config: object }): string[] {
  return prerequisites(findKind(run.kind), run.config).map((p) => kindKey(p.kind, p.config));
}

/**
 * The runs of a sweep with the runs they depend on added (once each, before them):
 * stage 0 runs need nothing, stage s runs need runs of earlier stages finished.
 */
export function withDependencies(runs: PlannedRun[]): PlannedRun[] {
  const seen = new Set(runs.map((r) => r.key));
  const deps: PlannedRun[] = [];
  const add = (r: PlannedRun) => {
    for (const p of prerequisites(findKind(r.kind), r.config)) {
      const planned = planRun(p.kind.name, { ...p.config });
      if (!seen.has(planned.key)) {
        seen.add(planned.key);
        deps.push(planned);
        add(planned);
      }
    }
  };
  runs.forEach(add);
  return [...deps, ...runs].sort((a, b) => a.stage - b.stage);
}

export { detectKind, forgetKind, liraKind, liraShadowKind, miaKind, sensitivityKind, trainKind, weightsKind };
export type { AnyRunKind, RunContext, RunEvents, RunKind, RunOutput, RunRef } from './types.ts';
export { inputOf } from './types.ts';
