// Sweep presets of the paper's deletion (section 7) and membership-inference (section 8)
// grids. Each item is recorded in the results store (kind 'forget' or 'mia') through the
// same claims as training runs, so reruns skip finished items and a killed item is redone.
import { DELETION_PRESET_GRID, runDeletionExperiment } from '../forget/experiment.ts';
import type { ForgetMethod, ForgetOptions } from '../forget/forget.ts';
import { MIA_GRID, recordMembershipInference, type MembershipOptions } from '../privacy/membershipInference.ts';
import type { ResultsStore } from '../store/results.ts';
import type { TrainConfig } from '../train/config.ts';
import { expandSweep, type Grid } from './sweepSpec.ts';

export type ExperimentKind = 'forget' | 'mia';

export interface ExperimentItem {
  kind: ExperimentKind;
  label: string;
  run(store: ResultsStore, dataDir?: string): Promise<string>; // returns a one-line outcome
}

export interface ExperimentPreset {
  name: string;
  description: string;
  kind: ExperimentKind;
  items(opts: { epochs?: number }): ExperimentItem[];
}

function deletionItems(epochs?: number): ExperimentItem[] {
  const out: ExperimentItem[] = [];
  for (const grid of DELETION_PRESET_GRID) {
    const bases: TrainConfig[] = expandSweep({ name: grid.name, grids: [grid.base as Grid] }, { epochs });
    for (const cfg of bases) {
      for (const { method, options } of grid.methods) {
        out.push(deletionItem(cfg, method, options));
      }
    }
  }
  return out;
}

export function deletionItem(cfg: TrainConfig, method: ForgetMethod, options: ForgetOptions): ExperimentItem {
  return {
    kind: 'forget',
    label: `${cfg.dataset} ${cfg.pattern} n=${cfg.n} seed=${cfg.seed} ${method}`,
    async run(store, dataDir) {
      const r = await runDeletionExperiment(cfg, method, options, { store, dataDir });
      return `${r.fromStore ? 'already done' : 'done'}: score ${r.result.before.score.toFixed(4)} -> ${r.result.after.score.toFixed(4)}`;
    },
  };
}

function miaItems(epochs?: number): ExperimentItem[] {
  const out: ExperimentItem[] = [];
  const g = MIA_GRID;
  for (const dataset of g.dataset) for (const pattern of g.pattern) for (const target of g.target) for (const opt of g.optimizers) {
    for (const n of g.n) for (const seed of g.seed) for (const model of g.model) {
      out.push(miaItem({ dataset, pattern, n, target, seed, model, epochs: epochs ?? g.epochs, ...opt }));
    }
  }
  return out;
}

export function miaItem(opts: MembershipOptions): ExperimentItem {
  return {
    kind: 'mia',
    label: `${opts.dataset} ${opts.pattern ?? 'R3'} n=${opts.n} target=${opts.target ?? 0} seed=${opts.seed} ${opts.model ?? ''} ${opts.optimizer ?? ''}`,
    async run(store, dataDir) {
      const r = await recordMembershipInference(store, { ...opts, dataDir });
      return `${r.fromStore ? 'already done' : 'done'}: attack accuracy ${r.result.attackAcc.toFixed(3)} (spurious ${r.result.attackAccSpurious.toFixed(3)}), AUC ${r.result.auc.toFixed(3)}`;
    },
  };
}

export const EXPERIMENT_PRESETS: ExperimentPreset[] = [
  { name: 'paper-deletion', kind: 'forget', description: DELETION_PRESET_GRID.map((g) => g.description).join('; '), items: ({ epochs }) => deletionItems(epochs) },
  {
    name: 'paper-mia',
    kind: 'mia',
    description: 'Membership inference with R3 for n = 1, 3, 5, 10, 20, 100, 1000 over 10 seeds, targets 0 and 1, Adam and SGD, MNIST and Fashion-MNIST',
    items: ({ epochs }) => miaItems(epochs),
  },
];

export interface ExperimentSweepSummary {
  total: number;
  done: number;
  failed: { label: string; error: string }[];
}

/** Runs a deletion or membership-inference preset item by item into the store. */
export async function runExperimentSweep(preset: ExperimentPreset, store: ResultsStore, opts: { epochs?: number; dataDir?: string; onItem?: (i: number, total: number, label: string, outcome: string) => void }): Promise<ExperimentSweepSummary> {
  const items = preset.items({ epochs: opts.epochs });
  const summary: ExperimentSweepSummary = { total: items.length, done: 0, failed: [] };
  for (let i = 0; i < items.length; i++) {
    try {
      const outcome = await items[i].run(store, opts.dataDir);
      summary.done++;
      opts.onItem?.(i, items.length, items[i].label, outcome);
    } catch (e) {
      summary.failed.push({ label: items[i].label, error: (e as Error).message });
      opts.onItem?.(i, items.length, items[i].label, `failed: ${(e as Error).message}`);
    }
  }
  return summary;
}
