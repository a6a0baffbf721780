// Chooses the backend and serves kernels keyed by (kernel, backend, dtype): the active
// backend's kernel when it has one for the dtype, else the reference kernel.
import type { Backend } from './backend.ts';
import type { DType, Kernels } from './kernels.ts';
import { refBackend } from './ref/index.ts';
import { loadNativeBackend } from './native/index.ts';

let active: Backend | null = null;
let nativeTried = false;
let nativeBackend: Backend | null = null;
let nativeError: string | null = null;
const merged = new Map<string, Kernels>();

function tryNative(): Backend | null {
  if (!nativeTried) {
    nativeTried = true;
    try {
      nativeBackend = loadNativeBackend();
    } catch (e) {
      nativeError = (e as Error).message;
    }
  }
  return nativeBackend;
}

function initialBackend(): Backend {
  const wanted = process.env.SPURLAB_BACKEND ?? 'native';
  if (wanted === 'ref') return refBackend;
  if (wanted !== 'native') {
    throw new Error(`SPURLAB_BACKEND=${wanted}: expected "native" or "ref"`);
  }
  const native = tryNative();
  if (native) return native;
  // the one warning line promised when the addon is missing: the library goes on, slower
  process.stderr.write(`spurlab: WARNING: native backend unavailable (${nativeError}); using the reference backend\n`);
  return refBackend;
}

export function activeBackend(): Backend {
  if (!active) active = initialBackend();
  return active;
}

/** Switches backend ('ref' or 'native'); throws if native cannot be loaded. */
export function setBackend(name: string): Backend {
  if (name === 'ref') active = refBackend;
  else if (name === 'native') {
    const native = tryNative();
    if (!native) throw new Error(`native backend unavailable: ${nativeError}`);
    active = native;
  } else throw new Error(`unknown backend "${name}": expected "native" or "ref"`);
  return active;
}

/** The native backend if it loads, else null (with the reason in nativeLoadError()). */
export function nativeBackendOrNull(): Backend | null {
  return tryNative();
}

export function nativeLoadError(): string | null {
  tryNative();
  return nativeError;
}

/** Kernels for one dtype on the active backend, with reference fallbacks. */
export function kernels(dtype: DType): Kernels {
  const b = activeBackend();
  const key = `${b.name}:${dtype}`;
  let k = merged.get(key);
  if (!k) {
    k = b.dtypes.includes(dtype) ? ({ ...refBackend.kernels, ...b.kernels } as Kernels) : (refBackend.kernels as Kernels);
    merged.set(key, k);
  }
  return k;
}

/** Runs fn with the given backend active, restoring the previous one after. */
export function withBackend<T>(name: string, fn: () => T): T {
  const prev = activeBackend();
  setBackend(name);
  try {
    return fn();
  } finally {
    active = prev;
  }
}
