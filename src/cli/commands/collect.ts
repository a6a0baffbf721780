// `spurlab collect`: load the result files of a Slurm sweep into the results store.
import { resolve } from 'node:path';
import { flag, stringOption, type Command } from '../command.ts';
import { collectSlurmResults, sweepCodeVersion } from '../../distributed/slurmRuns.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { UserError } from '../../util/errors.ts';

const USAGE = 'spurlab collect <DIR of spurlab sweep --emit slurm> [--store PATH] [--json]';

function ranges(indices: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indices.length; i++) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    parts.push(i === j ? `${indices[i]}` : `${indices[i]}-${indices[j]}`);
    i = j;
  }
  return parts.join(',');
}

export const collectCommand: Command = {
  name: 'collect',
  summary: 'Load the finished runs of a Slurm sweep directory into the results store (each once).',
  usage: USAGE,
  options: {
    store: { type: 'string', help: 'PATH: the results store the runs are loaded into', defaultText: DEFAULT_RESULTS_PATH },
    json: { type: 'boolean', help: 'print the counts as one JSON line' },
  },
  example: 'spurlab collect slurm-out --store spurlab-results/results.db',
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir || args.positionals.length > 1) throw new UserError(`which directory? usage: ${USAGE}`);
    const storePath = resolve(stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH);
    // the runs were computed by the code that emitted the sweep (run-index refuses any other)
    const store = ResultsStore.open(storePath, { codeVersion: sweepCodeVersion(dir) });
    try {
      const s = await collectSlurmResults(dir, store);
      if (flag(args, 'json')) io.out(JSON.stringify({ ...s, store: storePath }));
      else {
        io.out(
          `${s.loaded} runs loaded, ${s.alreadyInStore} already in the store, ${s.missing.length} of ${s.runs} not finished yet; results in ${storePath}`,
        );
        if (s.missing.length > 0)
          io.out(`not finished: ${ranges(s.missing)} (resubmit with sbatch --array=${ranges(s.missing)} ${resolve(dir, 'sweep.sbatch')})`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
