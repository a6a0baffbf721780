// Placeholder until the native addon loader lands: reports the addon as missing.
import type { Backend } from '../backend.ts';

export function loadNativeBackend(): Backend {
  throw new Error('native addon not built');
}
