// `spurlab demo` (= npm start): the paper's central experiment in a few minutes, with
// statistics over runs. Real MNIST, LargeMLP, Adam, target 0, patterns S3 and R3 in
// n = 0, 1, 3, 10 training images, 5 runs per setting (src/experiments/demo.ts fixes the
// protocol); prints the table with the test over runs against n = 0 and one sentence
// computed from it, and writes a page with one dot per run and the mean ± SEM.
import { join, resolve } from 'node:path';
import { flag, numberOption, stringOption, type Command } from '../command.ts';
import { DEMO_ALPHA, DEMO_EPOCHS, DEMO_PATTERNS, DEMO_SWEEP, DEMO_TRAIN_SUBSET, demoFinding } from '../../experiments/demo.ts';
import { expandSweep } from '../../experiments/grids/spec.ts';
import { configKey, runSweepHere } from '../../experiments/sweep.ts';
import { measureRun } from '../../experiments/runner.ts';
import { summarizeWithBaseline, type BaselineSummary } from '../../experiments/summaries.ts';
import { makeSpuriousDataset, type SpuriousDataset } from '../../data/spurious.ts';
import { DATASETS } from '../../data/datasets.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { spuriousSpecOf, type TrainConfig } from '../../train/config.ts';
import { train, type TrainEvents } from '../../train/trainer.ts';
import { buildDemoPage } from '../../report/build.ts';
import { formatInterval, formatTestP } from '../../report/format.ts';
import { SweepStatus, stderrSink } from '../../util/progress.ts';
import { activeBackend } from '../../backend/registry.ts';
import { version } from '../../version.ts';

const DEMO_OUT = join('spurlab-results', 'demo');

const GROUP = ['dataset', 'model', 'optimizer', 'target', 'epochs', 'pattern', 'n'];

function describeRun(cfg: TrainConfig): string {
  return `${cfg.pattern} n = ${cfg.n}, seed ${cfg.seed}`;
}

function runEvents(status: SweepStatus, cfg: TrainConfig, what: string, onEpoch?: () => void): TrainEvents {
  return {
    onStep(epoch, step, steps, loss) {
      status.runProgress(
        (epoch - 1 + step / steps) / cfg.epochs,
        `${what}: epoch ${epoch}/${cfg.epochs} step ${step}/${steps} loss ${loss.toFixed(3)}`,
      );
    },
    onEpoch() {
      onEpoch?.();
    },
  };
}

/**
 * At n = 0 every pattern's training split is the same clean data (and the model seed is
 * the same), so the baseline model of a seed is trained once and scored with each
 * pattern; each pattern's n = 0 run is recorded under its own config.
 */
async function trainSharedBaselines(configs: TrainConfig[], store: ResultsStore, status: SweepStatus): Promise<string[]> {
  const errors: string[] = [];
  const bySeed = new Map<string, TrainConfig[]>();
  for (const c of configs.filter((c) => c.n === 0)) {
    const k = JSON.stringify({ ...c, pattern: null });
    bySeed.set(k, [...(bySeed.get(k) ?? []), c]);
  }
  for (const group of bySeed.values()) {
    const todo = group.filter((c) => !store.isDone(configKey(c)));
    status.skip(group.length - todo.length);
    if (todo.length === 0) continue;
    const first = todo[0];
    const what = `n = 0, seed ${first.seed}`;
    status.startRun(`${what} (one clean model, scored with ${todo.map((c) => c.pattern).join(' and ')})`);
    // every record goes through runOnce; the model is trained once, in the first run's work
    let trained: Promise<{ data: SpuriousDataset; r: Awaited<ReturnType<typeof train>> }> | undefined;
    const scores: string[] = [];
    try {
      for (const c of todo) {
        const outcome = await store.runOnce({ key: configKey(c), config: c, kind: 'train' }, async (lease) => {
          trained ??= (async () => {
            const data = makeSpuriousDataset(spuriousSpecOf(first));
            return { data, r: await train(first, { data, events: runEvents(status, first, what, () => lease.renew()) }) };
          })();
          const { data, r } = await trained;
          const { result, perImage } = measureRun(c, c === first ? data : makeSpuriousDataset(spuriousSpecOf(c)), r);
          scores.push(`${c.pattern} ${result.score.toFixed(3)}`);
          return { result: { ...result, sharedBaselineOf: configKey(first) }, perImage };
        });
        if (outcome.status === 'busy') scores.push(`${c.pattern} (another process holds it)`);
      }
      status.endRun(`  done: score ${scores.join(', ')}${trained ? `, test acc ${(100 * (await trained).r.testAcc).toFixed(2)}%` : ''}`, todo.length);
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      errors.push(message);
      status.endRun(`  failed: ${message}`, todo.length);
    }
  }
  return errors;
}

function pCell(p: number, note: string): string {
  return formatTestP(p, note, 'plain', DEMO_ALPHA);
}

function table(rows: BaselineSummary[]): string[] {
  const header = ['pattern', 'n', 'runs', 'mean', 'SEM', '95% CI', 'p Welch', 'p perm.', 'test acc', 'per-run scores'];
  const cells = rows.map((r) => [
    String(r.group.pattern),
    String(r.group.n),
    String(r.runs),
    r.meanScore.toFixed(3),
    Number.isFinite(r.semScore) ? r.semScore.toFixed(3) : '-',
    formatInterval(r.comparison.ci[0], r.comparison.ci[1]),
    pCell(r.pValue, r.comparison.note),
    r.comparison.pPermutation === r.comparison.pPermutationMin
      ? `${r.comparison.pPermutation.toFixed(3)} (min.)`
      : pCell(r.comparison.pPermutation, r.comparison.note),
    `${(100 * r.meanTestAcc).toFixed(2)}%`,
    r.scores.map((v) => v.toFixed(3)).join(' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  return [header, ...cells].map((row) =>
    row
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
}

/** The smallest one-sided exact permutation p of k runs against k: 1 / C(2k, k). */
function permutationFloor(k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (k + i)) / i;
  return 1 / c;
}

function protocolText(cfg: TrainConfig, seeds: number[]): string {
  const all = DATASETS.mnist.trainSize;
  return `LargeMLP, Adam (lr ${cfg.lr}), ${cfg.epochs} epoch${cfg.epochs === 1 ? '' : 's'} on a seeded ${cfg.trainSubset.toLocaleString('en')}-image subset of MNIST's ${all.toLocaleString('en')} training images (the patterned ones always in), all 10,000 test images, target class 0; ${seeds.length} runs per setting (dataset seed = model seed = ${seeds.join(', ')}), the n = 0 model of a seed shared by both patterns. p: one-sided Welch's t-test of the per-run scores against the n = 0 runs (exact permutation test beside it; with ${seeds.length} runs against ${seeds.length} it cannot go below ${permutationFloor(seeds.length).toPrecision(2)}).`;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the demo experiment (MNIST, LargeMLP, S3 and R3 in n = 0, 1, 3, 10 images, 5 runs each) and write its page.',
  usage: 'spurlab demo [--store PATH] [--out DIR] [--epochs E] [--json]',
  options: {
    store: {
      type: 'string',
      help: 'PATH: the results store the runs are recorded in (a run already there is not trained again)',
      defaultText: DEFAULT_RESULTS_PATH,
    },
    out: { type: 'string', help: 'DIR: where the page (demo.html, and the chart as PNG) goes', defaultText: DEMO_OUT },
    epochs: { type: 'string', help: 'E: epochs per training run (fewer: a quicker, noisier demo)', defaultText: String(DEMO_EPOCHS) },
    json: { type: 'boolean', help: 'print the table as one JSON line (accuracies as 0-1 fractions)' },
  },
  example: 'spurlab demo --epochs 2 --store /tmp/demo/results.db --out /tmp/demo',
  async run(args, io) {
    const started = Date.now();
    const epochs =
      args.values.epochs === undefined ? undefined : numberOption(args, 'epochs', 10, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
    const storePath = resolve(stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH);
    const outDir = resolve(stringOption(args, 'out') ?? DEMO_OUT);
    const configs = expandSweep(DEMO_SWEEP, { epochs });
    const seeds = [...new Set(configs.map((c) => c.seed))];
    const trainings = configs.filter((c) => c.n > 0).length + configs.filter((c) => c.n === 0).length / new Set(configs.map((c) => c.pattern)).size;
    const store = ResultsStore.open(storePath);
    try {
      if (!flag(args, 'json')) {
        io.out(
          `spurlab demo: ${configs.length} settings-and-seeds, ${trainings} trainings of LargeMLP on MNIST (${configs[0].epochs} epoch${configs[0].epochs === 1 ? '' : 's'} on ${DEMO_TRAIN_SUBSET.toLocaleString('en')} training images each) on the ${activeBackend().describe()} backend`,
        );
      }
      const status = new SweepStatus(stderrSink(), 'demo', configs.length);
      const errors = await trainSharedBaselines(configs, store, status);
      let current = '';
      const summary = await runSweepHere(
        configs.filter((c) => c.n > 0),
        store,
        {
          artifacts: false,
          progress: {
            onRunStart: (cfg) => {
              current = describeRun(cfg);
              status.startRun(current);
            },
            onRunEnd: (_cfg, outcome, detail) => status.endRun(`  ${outcome}: ${detail}`),
            trainEvents: {
              onStep: (epoch, step, steps, loss) =>
                status.runProgress(
                  (epoch - 1 + step / steps) / configs[0].epochs,
                  `${current}: epoch ${epoch}/${configs[0].epochs} step ${step}/${steps} loss ${loss.toFixed(3)}`,
                ),
            },
          },
        },
      );
      status.skip(summary.skipped);
      status.finish();
      errors.push(...summary.failed.map((f) => f.error));
      if (errors.length > 0) {
        for (const e of errors) io.err(`run failed: ${e}`);
        return 1;
      }
      const keys = new Set(configs.map(configKey));
      const order = (r: BaselineSummary) => DEMO_PATTERNS.indexOf(String(r.group.pattern));
      const rows = summarizeWithBaseline(store, GROUP, { kind: 'train', status: 'done' }, { onlyKeys: keys }).sort(
        (a, b) => order(a) - order(b) || (a.group.n as number) - (b.group.n as number),
      );
      const sentence = demoFinding(rows);
      const protocol = protocolText(configs[0], seeds);
      const page = await buildDemoPage(rows, outDir, {
        title: 'spurlab demo: rare spurious correlations on MNIST',
        facts: [`LargeMLP on MNIST, S3 and R3 at n = 0, 1, 3, 10, ${seeds.length} runs per setting`, `spurlab ${version}`],
        notes: [sentence, protocol],
      });
      const seconds = (Date.now() - started) / 1000;
      if (flag(args, 'json')) {
        io.out(
          JSON.stringify(
            {
              settings: rows.map((r) => ({
                pattern: r.group.pattern,
                n: r.group.n,
                runs: r.runs,
                mean: r.meanScore,
                sem: r.semScore,
                ci: r.comparison.ci,
                pValue: r.pValue,
                testAcc: r.meanTestAcc,
                test: 'welch-over-runs',
                pPermutation: r.comparison.pPermutation,
                note: r.comparison.note,
                scores: r.scores,
              })),
              seconds,
              sentence,
              protocol,
              trainSubset: configs[0].trainSubset,
              epochs: configs[0].epochs,
              html: page.html,
              png: page.png,
            },
            (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
          ),
        );
      } else {
        for (const l of table(rows)) io.out(l);
        io.out('');
        io.out(sentence);
        io.out('');
        io.out(protocol);
        io.out(`page: ${page.html}`);
        if (page.png) io.out(`chart: ${page.png}`);
        io.out(`results store: ${storePath} (spurlab results --store ${storePath}); ${seconds.toFixed(0)} s`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
