// A compute backend: a named set of kernels (src/backend/kernels.ts) for some dtypes.
import type { DType, Kernels } from './kernels.ts';

export interface Backend {
  name: string; // 'ref' | 'native'
  dtypes: readonly DType[]; // dtypes its kernels accept
  kernels: Partial<Kernels>; // missing kernels fall back to the reference backend
  threads: number; // worker threads its kernels use
  describe(): string; // one line for `spurlab doctor`, e.g. "native (AVX2+FMA, 2 threads)"
}
