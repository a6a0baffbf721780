// What a training run's output directory already holds, so that `train --out DIR` never
// silently trains over another run: a run of another configuration is refused unless
// forced, a finished run of the same configuration is reported as finished, and an
// unfinished one points to --resume.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.ts';
import { loadCheckpoint, metadataJson } from './checkpoint.ts';

export const RUN_CHECKPOINT = 'model.safetensors';

export interface FinishedRun {
  epochs: number;
  testAcc: number;
  trainAcc: number;
}

interface SavedEpoch {
  testAcc?: number;
  trainAcc?: number;
}

function configDifferences(saved: Record<string, unknown>, wanted: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(wanted)])].sort();
  return keys
    .filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(wanted[k]))
    .map((k) => `${k} ${JSON.stringify(saved[k]) ?? 'unset'} there, ${JSON.stringify(wanted[k]) ?? 'unset'} here`);
}

/**
 * Checks `outDir` before training `config` (which has an `epochs` field) into it.
 * Returns null when training may go ahead (no checkpoint there, or `force`), or the
 * finished run of this same configuration that is already there. Throws a UserError
 * naming the directory when it holds an unreadable checkpoint, a run of another
 * configuration (listing the differences), or an unfinished run of this one.
 */
export function checkRunDirectory(outDir: string, config: Record<string, unknown>, force: boolean): FinishedRun | null {
  const path = join(outDir, RUN_CHECKPOINT);
  if (force || !existsSync(path)) return null;
  const replace = 'choose another --out, or add --force to replace it';
  let saved: Record<string, unknown>;
  let epoch: number;
  let history: SavedEpoch[];
  try {
    const ckpt = loadCheckpoint(path);
    saved = metadataJson<Record<string, unknown>>(ckpt, 'config');
    epoch = metadataJson<number>(ckpt, 'epoch');
    history = metadataJson<SavedEpoch[]>(ckpt, 'history');
  } catch (e) {
    throw new UserError(`--out ${outDir}: holds ${RUN_CHECKPOINT} that is not a readable spurlab run (${(e as Error).message}); ${replace}`);
  }
  const wantedEpochs = Number(config.epochs);
  const savedEpochs = Number(saved.epochs);
  const finished = epoch >= savedEpochs;
  const state = finished ? `a finished run (${epoch} epoch${epoch === 1 ? '' : 's'})` : `an unfinished run (epoch ${epoch} of ${savedEpochs})`;
  const diff = configDifferences(saved, config);
  if (diff.length > 0) {
    const shown = diff.slice(0, 6).join('; ') + (diff.length > 6 ? `; and ${diff.length - 6} more` : '');
    throw new UserError(`--out ${outDir}: holds ${state} of another config (${shown}); ${replace}`);
  }
  if (!finished) {
    throw new UserError(
      `--out ${outDir}: holds ${state} of this same config; continue it with \`spurlab train --resume ${outDir}\`, or add --force to train it again from the start`,
    );
  }
  const last = history[history.length - 1] ?? {};
  return { epochs: Math.min(epoch, wantedEpochs), testAcc: last.testAcc ?? NaN, trainAcc: last.trainAcc ?? NaN };
}
