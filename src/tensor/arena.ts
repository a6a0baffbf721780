// Recycled tensor storage for loops that build the same graph over and over (training
// steps, evaluation batches). A LargeMLP step allocates ~3 MB of typed arrays (batch,
// activations, gradients); left to the garbage collector, that is a quarter of a
// 20-epoch run spent in GC and page faults. Inside arena.run(fn) every tensor's storage
// comes from the arena's free lists (by dtype and length); arena.recycle() takes all of
// it back, so the caller must drop every tensor made inside first. Storage asked for
// zeroed is zeroed again when it is reused.
import { Buffer } from 'node:buffer';
import type { DType, FloatArray } from '../backend/kernels.ts';

let current: StorageArena | null = null;

export class StorageArena {
  private readonly free = new Map<number, FloatArray[]>();
  private lent: FloatArray[] = [];
  private lentBytes = 0;
  private peak = 0;

  /** Runs fn with this arena supplying tensor storage (the previous arena after it). */
  run<T>(fn: () => T): T {
    const prev = current;
    current = this;
    try {
      return fn();
    } finally {
      current = prev;
    }
  }

  /** Takes back all storage lent since the last recycle: no tensor made in run() may be used after. */
  recycle(): void {
    for (const a of this.lent) {
      const key = keyOf(a instanceof Float64Array ? 'float64' : 'float32', a.length);
      const list = this.free.get(key);
      if (list) list.push(a);
      else this.free.set(key, [a]);
    }
    this.lent = [];
    this.lentBytes = 0;
  }

  /** The most bytes lent out between two recycles. */
  get peakBytes(): number {
    return this.peak;
  }

  take(dtype: DType, size: number, zeroed: boolean): FloatArray {
    const reused = this.free.get(keyOf(dtype, size))?.pop();
    let a: FloatArray;
    if (reused) {
      a = reused;
      if (zeroed) a.fill(0);
    } else if (zeroed) {
      a = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
    } else {
      const bytes = Buffer.allocUnsafeSlow(size * (dtype === 'float64' ? 8 : 4));
      a = dtype === 'float64' ? new Float64Array(bytes.buffer, bytes.byteOffset, size) : new Float32Array(bytes.buffer, bytes.byteOffset, size);
    }
    this.lent.push(a);
    this.lentBytes += a.byteLength;
    if (this.lentBytes > this.peak) this.peak = this.lentBytes;
    return a;
  }
}

function keyOf(dtype: DType, size: number): number {
  return size * 2 + (dtype === 'float64' ? 1 : 0);
}

/** Storage from the running arena, or null outside arena.run (tensor.ts allocates then). */
export function arenaStorage(dtype: DType, size: number, zeroed: boolean): FloatArray | null {
  return current === null ? null : current.take(dtype, size, zeroed);
}
