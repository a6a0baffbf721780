// Hessian-vector products per second on LargeMLP, batch 1: the MLP R-operator
// (src/forget/mlpHessian.ts), one fused LiSSA step on it, and the tape's generic
// double backward, against PyTorch's double backward (bench/torch_peer.py,
// hvp_LargeMLP) measured in the same run. Each engine is first validated against
// central differences of float64 gradients. Variants are interleaved, each round runs a
// fixed number of products, and the best round counts.
// Usage: node --import tsx bench/hvp.ts [--json] [--no-peer]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModel } from '../src/nn/models/index.ts';
import { RandomState } from '../src/data/numpyRandom.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { MlpHessian, mlpLayers } from '../src/forget/mlpHessian.ts';
import { hessianEngineFor, TapeEngine, type Batch, type HessianEngine } from '../src/forget/hessianEngine.ts';
import { activeBackend } from '../src/backend/registry.ts';

const json = process.argv.includes('--json');
const model = createModel('LargeMLP', { height: 28, width: 28, channels: 1, numClasses: 10 }, new RandomState(0));
const rs = new RandomState(1);
const batch: Batch = {
  x: new Tensor(
    Float32Array.from({ length: 784 }, () => rs.random()),
    [1, 784],
  ),
  y: Int32Array.from([3]),
};
const rop = hessianEngineFor(model);
const tape = new TapeEngine(model);
const v = Float32Array.from({ length: rop.size }, () => rs.standardNormal());

// d/de grad L(theta + e v) by central differences, in float64 (the float32 weights widened);
// the step is small enough that no ReLU pre-activation crosses zero (1e-5 crossed one)
function finiteDifferenceHvp(h = 1e-7): Float64Array {
  const layers = mlpLayers(model)!;
  const at = (sign: number) => {
    let off = 0;
    const moved = layers.map(({ weight, bias }) => {
      const w = Float64Array.from(weight.values(), (x, i) => x + sign * h * v[off + i]);
      off += weight.size;
      const b = Float64Array.from(bias.values(), (x, i) => x + sign * h * v[off + i]);
      off += bias.size;
      return { weight: w, bias: b, inF: weight.shape[1], outF: weight.shape[0] };
    });
    const g = new Float64Array(rop.size);
    new MlpHessian(moved, 'float64').gradient(Float64Array.from(batch.x.values()), batch.y, g);
    return g;
  };
  const plus = at(1);
  const minus = at(-1);
  return plus.map((p, i) => (p - minus[i]) / (2 * h));
}

function validate(name: string, engine: HessianEngine, want: Float64Array): void {
  const got = new Float32Array(engine.size);
  engine.hvp(batch, v, got);
  const peak = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= 1e-3 * peak + 1e-3 * Math.abs(want[i]))) {
      throw new Error(`${name}: element ${i} is ${got[i]}, finite differences give ${want[i]}; not timing a wrong HVP`);
    }
  }
}

const fd = finiteDifferenceHvp();
validate('mlp-rop', rop, fd);
validate('tape', tape, fd);

const out = new Float32Array(rop.size);
const variants: { name: string; iters: number; run: () => void }[] = [
  { name: 'hvp_mlp_rop', iters: 400, run: () => rop.hvp(batch, v, out) },
  { name: 'lissa_step_mlp_rop', iters: 400, run: () => rop.lissaStep(batch, v, 0.01, 25) },
  { name: 'hvp_tape', iters: 40, run: () => tape.hvp(batch, v, out) },
];
rop.lissaStart(v);
const best: Record<string, number> = {};
for (let round = 0; round < 5; round++) {
  for (const variant of variants) {
    variant.run();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < variant.iters; i++) variant.run();
    const rate = variant.iters / (Number(process.hrtime.bigint() - t0) / 1e9);
    best[variant.name] = Math.max(best[variant.name] ?? 0, rate);
  }
}

function peer(): number | null {
  if (process.argv.includes('--no-peer')) return null;
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_peer.py');
  if (!existsSync(script) || !existsSync('/usr/bin/python3')) return null;
  const r = spawnSync('/usr/bin/python3', [script, '--json', '--seconds', '3'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return (JSON.parse(r.stdout) as { hvp_LargeMLP: number }).hvp_LargeMLP;
}
const torch = peer();
const result = {
  backend: activeBackend().describe(),
  ...best,
  torch_hvp_LargeMLP: torch,
  ratio_mlp_rop: torch ? best.hvp_mlp_rop / torch : null,
  ratio_tape: torch ? best.hvp_tape / torch : null,
};
if (json) {
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  process.stdout.write(`HVPs per second, LargeMLP, batch 1 (${result.backend}); validated against finite differences\n`);
  for (const [k, r] of Object.entries(best))
    process.stdout.write(`  ${k.padEnd(20)} ${r.toFixed(1).padStart(9)}/s${torch ? `  ${(r / torch).toFixed(1)}x PyTorch` : ''}\n`);
  process.stdout.write(`  ${'torch double bwd'.padEnd(20)} ${torch === null ? 'not measured' : `${torch.toFixed(1).padStart(9)}/s`}\n`);
}
