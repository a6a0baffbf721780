// The native backend: a typed face for the C++ addon built from native/ (SIMD GEMM,
// convolutions, fused optimizer steps on a persistent thread pool). The addon checks
// every argument itself and throws TypeError/RangeError naming the kernel and argument,
// so these wrappers pass calls straight through.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../backend.ts';
import { KERNEL_NAMES, type Kernels } from '../kernels.ts';

/** The SIMD paths the addon can run; it starts on the widest the CPU supports. */
export type NativeIsa = 'generic' | 'avx2' | 'avx512';

/** What native/addon.cc exports: the float32 kernels plus pool and ISA controls. */
interface NativeAddon extends Kernels {
  threads(): number;
  setThreads(n: number): number;
  isa(): string;
  setIsa(isa: NativeIsa): string;
  detectedIsa: string;
}

const addonPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'native', 'build', 'Release', 'spurlab.node');

let addon: NativeAddon | null = null;

function loadAddon(): NativeAddon {
  if (addon) return addon;
  if (!existsSync(addonPath)) {
    throw new Error(`native addon not built: ${addonPath} is missing (run npm run build:native)`);
  }
  let mod: NativeAddon;
  try {
    mod = createRequire(import.meta.url)(addonPath) as NativeAddon;
  } catch (e) {
    throw new Error(`native addon ${addonPath} failed to load: ${(e as Error).message}`);
  }
  const missing = KERNEL_NAMES.filter((name) => typeof mod[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`native addon ${addonPath} lacks kernels ${missing.join(', ')}; rebuild it with npm run build:native`);
  }
  addon = mod;
  return mod;
}

/** Loads the addon; throws an Error saying why when it is missing or does not load. */
export function loadNativeBackend(): Backend {
  const mod = loadAddon();
  const kernels = Object.fromEntries(KERNEL_NAMES.map((name) => [name, mod[name]])) as unknown as Kernels;
  return {
    name: 'native',
    dtypes: ['float32'],
    kernels,
    get threads() {
      return mod.threads();
    },
    describe: () => `native (${mod.isa()}, ${mod.threads()} thread${mod.threads() === 1 ? '' : 's'})`,
  };
}

/** Resizes the addon's thread pool; n = 0 restores the default (SPURLAB_THREADS or all cores). */
export function setNativeThreads(n: number): number {
  return loadAddon().setThreads(n);
}

/**
 * Selects the SIMD path (tests run the portable one too); never wider than the CPU
 * supports. Returns the name of the path now in use, e.g. "AVX2+FMA".
 */
export function setNativeIsa(isa: NativeIsa): string {
  return loadAddon().setIsa(isa);
}

/** The widest SIMD path this CPU supports, e.g. "AVX2+FMA". */
export function detectedNativeIsa(): string {
  return loadAddon().detectedIsa;
}
