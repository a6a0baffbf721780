// `spurlab demo` (= npm start): the paper's central experiment in a few minutes. Real
// MNIST, LargeMLP, Adam, target 0, seed 0, patterns S3 and R3 in n = 0, 1, 3, 10
// training images, a short schedule; prints the table with p-values against n = 0 and
// writes a page with the score-versus-n chart.
import { resolve } from 'node:path';
import { flag, numberOption, stringOption, type Command } from '../command.ts';
import { PRESETS } from '../../experiments/presets.ts';
import { expandSweep } from '../../experiments/sweepSpec.ts';
import { configKey, runSweepHere } from '../../experiments/sweep.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { summarizeWithBaseline, type BaselineSummary } from '../../experiments/summaries.ts';
import { buildDemoPage } from '../../report/build.ts';
import { ProgressBar, stderrSink } from '../../util/progress.ts';
import { activeBackend } from '../../backend/registry.ts';
import { progressEvents } from './train.ts';

const GROUP = ['dataset', 'model', 'optimizer', 'target', 'epochs', 'pattern', 'n'];

function formatP(p: number): string {
  if (Number.isNaN(p)) return '-';
  if (p === 0) return '< 1e-300';
  return p < 1e-3 ? p.toExponential(1) : p.toFixed(3);
}

/** One sentence on what the table shows, computed from it. */
export function demoFinding(rows: BaselineSummary[]): string {
  const parts: string[] = [];
  for (const pattern of [...new Set(rows.map((r) => String(r.group.pattern)))]) {
    const own = rows.filter((r) => r.group.pattern === pattern).sort((a, b) => (a.group.n as number) - (b.group.n as number));
    const base = own.find((r) => r.group.n === 0);
    const top = own[own.length - 1];
    if (!base || top === base) continue;
    const first = own.find((r) => (r.group.n as number) > 0 && r.pValue < 0.01 && r.meanScore > base.meanScore);
    parts.push(`${pattern} moves the score from ${base.meanScore.toFixed(3)} at n = 0 to ${top.meanScore.toFixed(3)} at n = ${top.group.n}` +
      (first ? `, significantly (p < 0.01) from n = ${first.group.n} on` : ', not significantly at p < 0.01'));
  }
  return `${parts.join('; ')}. A handful of patterned training images is enough for the network to tie the pattern to the target class, while clean test accuracy barely moves (one seed and a short schedule here: run spurlab sweep paper-mnist-patterns for the paper's 5 seeds and 70 epochs).`;
}

function table(rows: BaselineSummary[]): string[] {
  const lines = ['pattern  n   score   test acc  p-value vs n=0'];
  for (const r of rows) {
    const p = formatP(r.pValue);
    lines.push(`${String(r.group.pattern).padEnd(7)}  ${String(r.group.n).padEnd(2)}  ${r.meanScore.toFixed(4)}  ${(100 * r.meanTestAcc).toFixed(2).padStart(6)}%   ${p}`);
  }
  return lines;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the demo experiment (MNIST, LargeMLP, S3 and R3 in n = 0, 1, 3, 10 images) and write its page.',
  usage: 'spurlab demo [--store PATH] [--out DIR] [--epochs E] [--json]',
  options: { store: { type: 'string' }, out: { type: 'string' }, epochs: { type: 'string' }, json: { type: 'boolean' } },
  async run(args, io) {
    const started = Date.now();
    const epochs = args.values.epochs === undefined ? undefined : numberOption(args, 'epochs', 3, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
    const storePath = resolve(stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH);
    const outDir = resolve(stringOption(args, 'out') ?? 'spurlab-results/demo');
    const configs = expandSweep(PRESETS.find((p) => p.name === 'demo')!, { epochs });
    const store = ResultsStore.open(storePath);
    try {
      if (!flag(args, 'json')) io.out(`spurlab demo: ${configs.length} training runs of LargeMLP on MNIST (${configs[0].epochs} epochs each) on the ${activeBackend().describe()} backend`);
      const bar = new ProgressBar(stderrSink(), 'demo', configs.length, 'runs');
      const summary = await runSweepHere(configs, store, {
        artifacts: false,
        progress: {
          onRunStart: (cfg, i, total) => process.stderr.write(`run ${i + 1}/${total}: pattern ${cfg.pattern}, n = ${cfg.n}\n`),
          onRunEnd: () => bar.update(configs.filter((c) => store.isDone(configKey(c))).length),
          trainEvents: progressEvents(configs[0].epochs, '  train'),
        },
      });
      if (summary.failed.length > 0) {
        for (const f of summary.failed) io.err(`run failed: ${f.error}`);
        return 1;
      }
      const rows = summarizeWithBaseline(store, GROUP, { kind: 'train', status: 'done', dataset: 'mnist', model: 'LargeMLP', target: 0 })
        .filter((r) => r.group.epochs === configs[0].epochs && configs.some((c) => c.pattern === r.group.pattern && c.n === r.group.n));
      const finding = demoFinding(rows);
      const page = await buildDemoPage(rows, outDir, {
        title: 'spurlab demo: rare spurious correlations on MNIST',
        facts: [`LargeMLP, Adam (lr 0.01), ${configs[0].epochs} epochs, target class 0, dataset seed 0; patterns S3 (a 5x5 white square) and R3 (fixed random noise).`, finding],
      });
      const seconds = (Date.now() - started) / 1000;
      if (flag(args, 'json')) {
        io.out(JSON.stringify({ rows: rows.map((r) => ({ pattern: r.group.pattern, n: r.group.n, score: r.meanScore, testAcc: r.meanTestAcc, pValue: r.pValue })), finding, html: page.html, png: page.png, seconds }));
      } else {
        for (const l of table(rows)) io.out(l);
        io.out('');
        io.out(finding);
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
