// `spurlab run-index`: one task of a Slurm job array (spurlab sweep --emit slurm).
import { resolve } from 'node:path';
import { flag, stringOption, type Command, DATA_DIR_OPTION } from '../command.ts';
import { codeVersion } from '../../distributed/codeVersion.ts';
import { runIndex } from '../../distributed/slurmRuns.ts';
import { UserError } from '../../util/errors.ts';
import { findKind } from '../../experiments/kinds/index.ts';

const USAGE = 'spurlab run-index <sweep.json> <i> --out DIR [--artifacts-dir DIR | --no-artifacts] [--data-dir DIR]';

export const runIndexCommand: Command = {
  name: 'run-index',
  summary: 'Run run i (of any kind) of an emitted Slurm sweep into DIR/<i>.json (one array task).',
  usage: USAGE,
  options: {
    out: { type: 'string', help: "DIR: where <i>.json goes (the emitted sweep's results/ directory)", defaultText: 'required' },
    'artifacts-dir': { type: 'string', help: 'DIR: the shared checkpoint directory', defaultText: "the emitted sweep's choice, under DIR/artifacts" },
    'no-artifacts': { type: 'boolean', help: 'keep no checkpoints or history for the run' },
    'data-dir': DATA_DIR_OPTION,
  },
  example: 'spurlab run-index slurm-out/sweep.json 0 --out slurm-out/results',
  async run(args, io) {
    const [sweepFile, indexText] = args.positionals;
    if (!sweepFile || indexText === undefined || args.positionals.length > 2)
      throw new UserError(`expected a sweep file and an index; usage: ${USAGE}`);
    if (!/^\d+$/.test(indexText)) throw new UserError(`index "${indexText}": expected a non-negative integer`);
    const out = stringOption(args, 'out');
    if (!out) throw new UserError(`--out DIR is required (where <i>.json goes); usage: ${USAGE}`);
    const artifactsDir = stringOption(args, 'artifacts-dir');
    if (artifactsDir !== undefined && flag(args, 'no-artifacts'))
      throw new UserError('--artifacts-dir and --no-artifacts contradict each other; give one');
    const r = await runIndex({
      sweepFile,
      index: Number(indexText),
      outDir: resolve(out),
      codeVersion: codeVersion(),
      artifacts: flag(args, 'no-artifacts') ? 'none' : artifactsDir !== undefined ? { dir: artifactsDir } : 'default',
      dataDir: stringOption(args, 'data-dir'),
    });
    if (r.status === 'exists') io.out(`run ${indexText}: already done (${r.path})`);
    else {
      const kind = findKind(r.file!.kind);
      io.out(
        `run ${indexText} (${kind.name}): ${kind.outcome(kind.checkResult(r.file!.result, r.path))}, ${r.file!.seconds.toFixed(1)} s -> ${r.path}`,
      );
    }
    return 0;
  },
};
