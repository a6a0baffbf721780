// Child of native-detach.test.ts, run under `node --expose-gc`: calls every native kernel
// with typed arrays that are detached (and collected) before the call or by a getter on
// one of its object or list arguments while the addon reads it. Before each call it
// writes the case to stderr, so a crash names the case that crashed; at the end it prints
// one JSON line with each case's outcome.
import { loadNativeBackend } from '../../src/backend/native/index.ts';
import { KERNEL_NAMES } from '../../src/backend/kernels.ts';

type Fn = (...a: unknown[]) => unknown;
const kernels = loadNativeBackend().kernels as unknown as Record<string, Fn>;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const f32 = (n: number) => new Float32Array(n).fill(0.5);
const i32 = (n: number) => new Int32Array(n);
const g = { n: 2, c: 3, h: 5, w: 5, oc: 4, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 0, padW: 0, oh: 3, ow: 3 };
const pool = { n: 1, c: 2, h: 4, w: 4, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, oh: 2, ow: 2 };
const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, clip: 0 };
const sgd = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, firstStep: true, clip: 0 };

/** Valid arguments for every kernel, built fresh for each call. */
const SPECS: Record<string, () => unknown[]> = {
  matmul: () => [f32(6), f32(6), 2, 3, 2, false, false, f32(4)],
  linear: () => [f32(6), f32(6), f32(2), 2, 3, 2, true, f32(4)],
  binary: () => ['add', f32(6), 0, [1], f32(6), 0, [1], [6], f32(6)],
  unary: () => ['exp', f32(6), f32(6)],
  affine: () => [f32(6), 2, 1, f32(6)],
  scaledSum: () => [f32(6), 0.5, f32(6), f32(6), f32(6)],
  scaledSumOuter: () => [f32(6), 0.5, f32(6), f32(4), f32(6), 2, 2, 3, f32(6)],
  clamp: () => [f32(6), 0, 1, f32(6)],
  clampBackward: () => [f32(6), f32(6), 0, 1, f32(6)],
  reduce: () => ['sum', f32(6), [2, 3], [false, true], f32(2)],
  stridedCopy: () => [f32(6), 0, [1, 2], [2, 3], f32(6)],
  stridedScatterAdd: () => [f32(6), [2, 3], 0, [3, 1], f32(6)],
  softmax: () => [f32(6), 2, 3, f32(6)],
  logSoftmax: () => [f32(6), 2, 3, f32(6)],
  softmaxCrossEntropy: () => [f32(6), Int32Array.from([0, 2]), 2, 3, f32(2), f32(6)],
  conv2d: () => [f32(150), f32(108), { ...g }, f32(72)],
  conv2dFused: () => [f32(150), f32(108), f32(4), { ...g }, true, f32(72)],
  conv2dBackwardInput: () => [f32(72), f32(108), { ...g }, f32(150)],
  conv2dBackwardWeight: () => [f32(150), f32(72), { ...g }, f32(108)],
  conv2dFusedBackward: () => [f32(150), f32(108), f32(72), f32(72), { ...g }, true, f32(150), f32(108), f32(4)],
  maxPool2d: () => [f32(32), { ...pool }, f32(8), i32(8)],
  maxPool2dBackward: () => [f32(8), Int32Array.from([0, 3, 5, 7, 9, 11, 13, 15]), f32(32)],
  gatherIndex: () => [f32(8), Int32Array.from([0, 7, 3]), f32(3)],
  avgPool2d: () => [f32(32), { ...pool }, false, f32(8)],
  avgPool2dBackward: () => [f32(8), { ...pool }, false, f32(32)],
  batchNorm: () => [f32(12), f32(2), f32(2), 3, 2, 2, true, 0.1, 1e-5, f32(2), f32(2), f32(12), f32(2), f32(2), true],
  batchNormBackward: () => [f32(12), f32(12), f32(2), f32(2), f32(2), 3, 2, 2, true, f32(12), f32(2), f32(2), f32(12)],
  adamUpdate: () => [f32(300), f32(300), f32(300), f32(300), { ...adam }],
  sgdUpdate: () => [f32(300), f32(300), f32(300), { ...sgd }],
};

const isTyped = (v: unknown): v is Float32Array | Int32Array => ArrayBuffer.isView(v);
const isHook = (v: unknown) => v !== null && typeof v === 'object' && !isTyped(v);

/** Detaches the array's buffer (a transfer to a clone nobody keeps) and collects it. */
function detach(a: Float32Array | Int32Array): void {
  structuredClone(a.buffer, { transfer: [a.buffer] });
  gc!();
}

/** Makes reading the object's first field, or the array's first element, run `effect`. */
function trap(arg: object, effect: () => void): void {
  const key = Array.isArray(arg) ? '0' : Object.keys(arg)[0];
  const value = (arg as Record<string, unknown>)[key];
  Object.defineProperty(arg, key, { get: () => (effect(), value), enumerable: true, configurable: true });
}

export interface Outcome {
  kernel: string;
  case: string;
  threw: string | null;
}

const outcomes: Outcome[] = [];
function run(kernel: string, what: string, args: unknown[]): void {
  process.stderr.write(`${kernel}: ${what}\n`);
  try {
    kernels[kernel](...args);
    outcomes.push({ kernel, case: what, threw: null });
  } catch (e) {
    outcomes.push({ kernel, case: what, threw: `${(e as Error).name}: ${(e as Error).message}` });
  }
}

const missing = KERNEL_NAMES.filter((k) => !SPECS[k]);
if (missing.length > 0) throw new Error(`detachChild.ts has no arguments for ${missing.join(', ')}`);

for (const kernel of KERNEL_NAMES) {
  const spec = SPECS[kernel];
  run(kernel, 'valid', spec());
  const proto = spec();
  for (let t = 0; t < proto.length; t++) {
    if (!isTyped(proto[t])) continue;
    const before = spec();
    detach(before[t] as Float32Array);
    run(kernel, `arg ${t} detached before the call`, before);
    for (let h = 0; h < proto.length; h++) {
      if (!isHook(proto[h])) continue;
      const during = spec();
      trap(during[h] as object, () => detach(during[t] as Float32Array));
      run(kernel, `arg ${t} detached by a getter on arg ${h}`, during);
    }
  }
}

// A getter that shrinks a resizable buffer under a length-tracking array.
{
  // Resizable buffers are in Node 20 but not in this project's TypeScript lib.
  type Resizable = ArrayBuffer & { resize(n: number): void };
  const Ctor = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable;
  const buf = new Ctor(1200, { maxByteLength: 1200 });
  const param = new Float32Array(buf);
  const args = { ...adam };
  trap(args, () => (buf.resize(4), gc!()));
  run('adamUpdate', 'param shrunk by a getter', [param, f32(300), f32(300), f32(300), args]);
}
// A getter on a list element that lengthens the list past the rank limit.
{
  const shape = [2, 3];
  trap(shape, () => shape.push(...new Array(1000).fill(1)));
  run('stridedCopy', 'shape lengthened by its own getter', [f32(6), 0, [1, 2], shape, f32(6)]);
}

// A getter that throws: its error reaches the caller, nothing runs.
{
  const args = { ...sgd };
  Object.defineProperty(args, 'lr', {
    get: () => {
      throw new Error('getter says no');
    },
    enumerable: true,
  });
  run('sgdUpdate', 'a throwing getter', [f32(3), f32(3), f32(3), args]);
}

process.stdout.write(`${JSON.stringify(outcomes)}\n`);
