// Where one training step (or eval batch) of a model spends its time, per native kernel
// and shape: every kernel of the active backend is wrapped with a timer, the workload of
// `npm run bench` (bench/steps.ts: random batch, recycled storage) runs a few untimed
// steps and then `--steps` timed ones, and the table gives ms per step for each
// (kernel, shape) and the rest of the step (JavaScript, tape, allocation, GC) as "outside
// kernels". Native kernels are synchronous, so their wall time is their whole cost.
//   node --import tsx bench/profileKernels.ts [--model ResNet20] [--eval] [--steps 5] [--json]
import { kernels } from '../src/backend/registry.ts';
import type { ConvGeom, Kernels, PoolGeom } from '../src/backend/kernels.ts';
import { evalRate, TRAIN_WORKLOADS, trainRate } from './steps.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const modelName = opt('--model', 'ResNet20');
const evalMode = argv.includes('--eval');
const steps = Number(opt('--steps', '5'));
if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps: got "${opt('--steps', '')}", expected a positive integer`);
const json = argv.includes('--json');

const convLabel = (g: ConvGeom) => `${g.c}->${g.oc} ${g.h}x${g.w} k${g.kh} s${g.strideH}`;
const poolLabel = (g: PoolGeom) => `${g.c}x${g.h}x${g.w} k${g.kh}`;

// A short shape label per kernel call, so that one kernel's calls split by layer shape.
function label(name: string, args: unknown[]): string {
  switch (name) {
    case 'conv2d':
    case 'conv2dFused':
    case 'conv2dBackwardInput':
    case 'conv2dBackwardWeight':
      return convLabel(args[name === 'conv2dFused' ? 3 : 2] as ConvGeom) + (name === 'conv2dFused' && args[4] ? ' +relu' : '');
    case 'conv2dFusedBackward': {
      const g = args[4] as ConvGeom;
      const parts = [args[6] ? 'dx' : '', args[7] ? 'dw' : ''].filter(Boolean).join('+'); // input, weight gradients
      return `${convLabel(g)} ${parts}${args[5] ? ' relu' : ''}`;
    }
    case 'batchNorm':
    case 'batchNormBackward': {
      const [n, c, s] = name === 'batchNorm' ? (args.slice(3, 6) as number[]) : (args.slice(5, 8) as number[]);
      return `n${n} c${c} s${s}`;
    }
    case 'binary':
      return `${args[0]} [${(args[7] as number[]).join(',')}]`;
    case 'unary':
      return `${args[0]} ${(args[1] as Float32Array).length}`;
    case 'stridedCopy':
    case 'stridedScatterAdd':
      return `[${(args[name === 'stridedCopy' ? 3 : 1] as number[]).join(',')}]`;
    case 'avgPool2d':
    case 'avgPool2dBackward':
    case 'maxPool2d':
      return poolLabel(args[1] as PoolGeom);
    default:
      return '';
  }
}

const times = new Map<string, { ms: number; calls: number }>();
let recording = false;
const k = kernels('float32') as unknown as Record<string, (...a: unknown[]) => void>;
for (const name of Object.keys(k) as (keyof Kernels)[]) {
  const f = k[name];
  k[name] = (...args: unknown[]) => {
    if (!recording) return f(...args);
    // Without ReLU or bias (ResNet's convolutions) the fused backward is exactly its input
    // and weight gradients one after the other: time them apart.
    if (name === 'conv2dFusedBackward' && !args[5] && args[6] && args[7] && !args[8]) {
      const [x, w, out, dy, g, relu, dx, dw] = args;
      k[name](x, w, out, dy, g, relu, dx, null, null);
      k[name](x, w, out, dy, g, relu, null, dw, null);
      return;
    }
    const t0 = performance.now();
    f(...args);
    const key = `${name} ${label(name, args)}`.trim();
    const e = times.get(key) ?? { ms: 0, calls: 0 };
    e.ms += performance.now() - t0;
    e.calls++;
    times.set(key, e);
  };
}

const w = TRAIN_WORKLOADS.find((x) => x.model === modelName);
if (!w) throw new Error(`--model: no training workload for "${modelName}" (have ${TRAIN_WORKLOADS.map((x) => x.model).join(', ')})`);
const shape = evalMode ? [500, ...w.shape.slice(1)] : w.shape;
const run = (iters: number) => (evalMode ? evalRate(modelName, shape, iters) : trainRate(w, iters));
run(2); // warm-up: scratch buffers, JIT
recording = true;
// the rate covers the timed steps only (not building the model and batch, nor the one
// warm-up step, whose kernels are recorded too: hence steps + 1 below)
const wall = (1000 * shape[0]) / run(steps);
recording = false;

const rows = [...times.entries()].map(([key, e]) => ({ key, ms: e.ms / (steps + 1), calls: e.calls / (steps + 1) })).sort((a, b) => b.ms - a.ms);
const inKernels = rows.reduce((s, r) => s + r.ms, 0);
// per kernel (all shapes together)
const byKernel = new Map<string, number>();
for (const r of rows) byKernel.set(r.key.split(' ')[0], (byKernel.get(r.key.split(' ')[0]) ?? 0) + r.ms);
const what = `${evalMode ? 'eval' : 'train'}_${modelName} [${shape.join(',')}]`;
if (json) {
  process.stdout.write(
    `${JSON.stringify({ workload: what, wallMsPerStep: wall, inKernelsMs: inKernels, rows, byKernel: Object.fromEntries(byKernel) }, null, 1)}\n`,
  );
} else {
  const out: string[] = [
    `${what}: ${wall.toFixed(1)} ms per step, ${inKernels.toFixed(1)} ms in kernels, ${(wall - inKernels).toFixed(1)} ms outside kernels`,
  ];
  out.push('', 'per kernel:');
  for (const [name, ms] of [...byKernel.entries()].sort((a, b) => b[1] - a[1]))
    out.push(`  ${ms.toFixed(2).padStart(8)} ms  ${((100 * ms) / wall).toFixed(1).padStart(5)}%  ${name}`);
  out.push('', 'per kernel and shape (ms per step, calls per step):');
  for (const r of rows)
    out.push(`  ${r.ms.toFixed(2).padStart(8)} ms  ${(Number.isInteger(r.calls) ? String(r.calls) : r.calls.toFixed(1)).padStart(4)}x  ${r.key}`);
  process.stdout.write(`${out.join('\n')}\n`);
}
