// The registry of run kinds. Sweeps, the queue, Slurm, `results` and the report look a
// kind up here by the name the store records; adding a kind is adding it to KINDS.
import { runKey } from '../../store/runKey.ts';
import { UserError } from '../../util/errors.ts';
import { detectKind } from './detect.ts';
import { forgetKind } from './forget.ts';
import { miaKind } from './mia.ts';
import { sensitivityKind } from './sensitivity.ts';
import { trainKind } from './train.ts';
import type { AnyRunKind, RunKind } from './types.ts';
import { weightsKind } from './weights.ts';

export const KINDS: readonly AnyRunKind[] = [trainKind, forgetKind, miaKind, sensitivityKind, weightsKind, detectKind];
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

/** Configures a run from a grid point (or a transported config) and keys it. */
export function planRun(kindName: string, input: Record<string, unknown>): PlannedRun {
  const kind = findKind(kindName);
  const config = kind.configure(input);
  return { kind: kind.name, config, key: kindKey(kind, config), stage: kind.dependencies(config).length > 0 ? 1 : 0 };
}

/**
 * The runs of a sweep with the train runs they depend on added (once each, before
 * them): stage 0 runs need nothing, stage 1 runs need stage 0 runs finished.
 */
export function withDependencies(runs: PlannedRun[]): PlannedRun[] {
  const seen = new Set(runs.map((r) => r.key));
  const deps: PlannedRun[] = [];
  for (const r of runs) {
    for (const dep of findKind(r.kind).dependencies(r.config)) {
      const planned = planRun('train', { ...dep });
      if (!seen.has(planned.key)) {
        seen.add(planned.key);
        deps.push(planned);
      }
    }
  }
  return [...deps, ...runs].sort((a, b) => a.stage - b.stage);
}

export { detectKind, forgetKind, miaKind, sensitivityKind, trainKind, weightsKind };
export type { AnyRunKind, RunContext, RunEvents, RunKind, RunOutput } from './types.ts';
