// Where a whole training run's time goes: runs `spurlab train` (LargeMLP on MNIST by
// default) under `node --cpu-prof` and sums the profile's samples by what the trainer was
// doing, from each sample's stack: start-up, data loading, batches, forward, loss,
// backward, optimizer, evaluation, checkpoints, progress, garbage collection. Native
// kernels run synchronously, so their time is counted in the JavaScript that called them.
//   node --import tsx bench/profile.ts [--threads N] [--epochs E] [--model M] [--json]
//   node --import tsx bench/profile.ts --summarize DIR   (the profiles of a run made elsewhere)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

// First match wins, walking a sample's stack from the leaf up: the most specific phase
// (a checkpoint written from inside the epoch loop is a checkpoint, not "train").
const PHASES: [string, string][] = [
  ['saveCheckpoint', 'checkpoints'],
  ['writeFileAtomicSync', 'checkpoints'],
  ['predict', 'evaluation'],
  ['accuracy', 'evaluation'],
  ['makeSpuriousDataset', 'data loading'],
  ['onStep', 'progress'],
  ['onEpoch', 'progress'],
  ['step', 'optimizer'],
  ['backward', 'backward'],
  ['crossEntropy', 'loss'],
  ['forward', 'forward'],
  ['makeBatch', 'batches'],
  ['batchLabels', 'batches'],
  ['permutation', 'batches'],
  ['zeroGrad', 'batches'],
  ['train', 'training loop (other)'],
];
const SPECIAL: Record<string, string> = {
  '(garbage collector)': 'garbage collection',
  '(idle)': 'idle (waiting for pool threads)',
  '(program)': 'V8 (program)',
};

/** Milliseconds per phase in one .cpuprofile. */
export function phases(p: CpuProfile): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const phaseOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = phaseOf.get(id);
    if (known) return known;
    const leaf = byId.get(id)!.callFrame.functionName;
    let label = Object.hasOwn(SPECIAL, leaf) ? SPECIAL[leaf] : undefined;
    if (!label) {
      const names = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) names.add(byId.get(cur)!.callFrame.functionName);
      label = PHASES.find(([fn]) => names.has(fn))?.[1] ?? 'start-up (loading modules, CLI)';
    }
    phaseOf.set(id, label);
    return label;
  };
  const out = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const label = classify(id);
    out.set(label, (out.get(label) ?? 0) + p.timeDeltas[i] / 1000);
  });
  return out;
}

function summarize(dir: string, title: string, json: boolean, extra: Record<string, unknown>): void {
  // the largest profile is the main thread's; the others are loader threads (start-up)
  const files = readdirSync(dir)
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  if (files.length === 0) throw new Error(`${dir}: no .cpuprofile files`);
  const main = phases(JSON.parse(readFileSync(files[0], 'utf8')) as CpuProfile);
  const total = [...main.values()].reduce((a, b) => a + b, 0);
  const rows = [...main].sort((a, b) => b[1] - a[1]);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...extra, mainThread_s: total / 1000, phases_ms: Object.fromEntries(rows) })}\n`);
    return;
  }
  process.stdout.write(`${title}, main thread ${(total / 1000).toFixed(1)} s\n`);
  for (const [k, ms] of rows)
    process.stdout.write(`  ${k.padEnd(34)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${((100 * ms) / total).toFixed(1).padStart(5)}%\n`);
}

function main(): void {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
  if (argv.includes('--summarize')) {
    summarize(opt('--summarize', '.'), opt('--summarize', '.'), argv.includes('--json'), {});
    return;
  }
  const threads = opt('--threads', '2');
  const epochs = opt('--epochs', '20');
  const model = opt('--model', 'LargeMLP');
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const tmp = mkdtempSync(join(tmpdir(), 'spurlab-profile-'));
  try {
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      [
        '--cpu-prof',
        `--cpu-prof-dir=${join(tmp, 'prof')}`,
        join(root, 'bin', 'spurlab.mjs'),
        'train',
        'mnistv20-3-0-1',
        '--model',
        model,
        '--epochs',
        epochs,
        '--out',
        join(tmp, 'run'),
        '--json',
      ],
      { env: { ...process.env, SPURLAB_THREADS: threads }, encoding: 'utf8' },
    );
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`spurlab train failed: ${r.stderr.trim().split('\n').pop()}`);
    summarize(
      join(tmp, 'prof'),
      `${model}, ${epochs} epochs, SPURLAB_THREADS=${threads}: ${wall.toFixed(1)} s from spawn to exit (with the profiler on)`,
      argv.includes('--json'),
      { model, epochs: Number(epochs), threads: Number(threads), wall_s: wall },
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
