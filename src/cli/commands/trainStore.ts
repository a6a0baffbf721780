// `spurlab train --store PATH`: one training run recorded in the results store as kind
// 'train', exactly as a sweep records it (the same key, result and per-image indicator),
// so `results` and the report see it; an identical finished run is reported from the
// store instead of being trained again. The run's files go to --out as usual.
import { resolve } from 'node:path';
import type { CliIo } from '../command.ts';
import { kindKey, trainKind } from '../../experiments/kinds/index.ts';
import { resultOf, runInStore } from '../../experiments/sweep.ts';
import { ResultsStore } from '../../store/results.ts';
import type { TrainConfig } from '../../train/config.ts';
import type { TrainEvents } from '../../train/trainer.ts';
import type { RunResult } from '../../experiments/runner.ts';

export async function trainIntoStore(
  io: CliIo,
  cfg: TrainConfig,
  o: {
    storePath: string;
    outDir: string;
    dataDir?: string;
    events?: TrainEvents;
    json: boolean;
    /** The result line of a run trained now, as plain `train` prints it. */
    trainedLine: (r: RunResult) => string;
  },
): Promise<number> {
  const config = trainKind.configure({ ...cfg });
  const key = kindKey(trainKind, config);
  const store = ResultsStore.open(o.storePath);
  try {
    // the run continues from a checkpoint of this config left in --out by a killed attempt
    const outcome = await runInStore(store, trainKind, config, {
      artifacts: false,
      artifactDir: resolve(o.outDir),
      dataDir: o.dataDir,
      events: o.events && { onStep: o.events.onStep, onEpoch: (_phase, r) => o.events?.onEpoch?.(r) },
    });
    const { result, fromStore } = resultOf(trainKind, outcome, o.storePath);
    if (o.json) {
      io.out(JSON.stringify({ ...result, key, fromStore, store: o.storePath, out: o.outDir }));
      return 0;
    }
    io.out(
      fromStore
        ? `an identical run was already in ${o.storePath} (run ${key.slice(0, 12)}); nothing was trained: spurious score ${result.score.toFixed(4)}, test accuracy ${(100 * result.testAcc).toFixed(2)}%`
        : `${o.trainedLine(result)}; recorded in ${o.storePath} as run ${key.slice(0, 12)} (kind train)`,
    );
    return 0;
  } finally {
    store.close();
  }
}
