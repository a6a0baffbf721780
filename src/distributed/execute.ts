// Running one run of any kind away from the results store: on a queue worker's child or
// as a Slurm array task. The config is configured again by its kind (so a tampered or
// stale job fails with a clear error) and must hash to the key it was sent with. A
// dependency (a trained model) is found in the shared artifacts directory under its
// own key, where its train run put it, or trained there first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findKind, kindKey, trainKind, type RunEvents, type RunOutput } from '../experiments/kinds/index.ts';
import { finishedRunIn } from '../experiments/kinds/train.ts';
import { train } from '../train/trainer.ts';
import { UserError } from '../util/errors.ts';

export interface DetachedRun {
  kind: string;
  config: object;
  key: string;
  /** Shared directory of run artifacts (<dir>/<key>); none: no checkpoints, dependencies trained in a temporary directory. */
  artifactsDir?: string;
  dataDir?: string;
  events?: RunEvents;
  /** Results of the run's input runs by key (a queue job carries them); an input missing here is run here, unrecorded. */
  inputs?: Record<string, object>;
}

export async function runDetached(run: DetachedRun): Promise<RunOutput<object>> {
  const kind = findKind(run.kind, `run ${run.key.slice(0, 12)}`);
  const config = kind.configure({ ...run.config });
  const key = kindKey(kind, config);
  if (key !== run.key)
    throw new UserError(
      `run ${run.key.slice(0, 12)} (kind ${kind.name}): its configuration hashes to ${key.slice(0, 12)}; it was changed after it was planned, plan the sweep again`,
    );
  // Dependencies trained without an artifact directory go to a scratch directory, removed with the run.
  let scratch: string | undefined;
  try {
    return await kind.run(config, {
      dataDir: run.dataDir,
      artifactDir: run.artifactsDir === undefined ? undefined : join(run.artifactsDir, key),
      events: run.events,
      async trainedModel(cfg) {
        const dir =
          run.artifactsDir === undefined
            ? join((scratch ??= mkdtempSync(join(tmpdir(), 'spurlab-dependency-'))), kindKey(trainKind, cfg))
            : join(run.artifactsDir, kindKey(trainKind, cfg));
        if (!finishedRunIn(dir, cfg)) await train(cfg, { outDir: dir, dataDir: run.dataDir, resumeIfPresent: true });
        return dir;
      },
      async resultOf(kindName, cfg) {
        const input = findKind(kindName, `input of run ${run.key.slice(0, 12)}`);
        const inputConfig = input.configure({ ...cfg });
        const given = run.inputs?.[kindKey(input, inputConfig)];
        if (given !== undefined) return given;
        return (await runDetached({ ...run, kind: input.name, config: inputConfig, key: kindKey(input, inputConfig) })).result;
      },
    });
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
