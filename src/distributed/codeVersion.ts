// The code version that coordinator and workers must agree on: the package version plus
// a hash of the source tree (src/, the native kernels and package.json). A hash of the
// files rather than git HEAD because uncommitted edits change results too, and an
// installed copy of spurlab has no .git; two machines with the same files agree.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { version } from '../version.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// What decides the numbers a run produces; tests, docs and build outputs do not.
const HASHED = ['src', 'native', 'package.json'];
const SOURCE_FILE = /\.(ts|mts|js|mjs|cc|cpp|h|hpp|gyp|json)$/;

function listFiles(path: string, out: string[]): void {
  if (!existsSync(path)) return;
  if (statSync(path).isFile()) {
    out.push(path);
    return;
  }
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'build' || entry.name === 'node_modules') continue;
    const child = join(path, entry.name);
    if (entry.isDirectory()) listFiles(child, out);
    else if (entry.isFile() && SOURCE_FILE.test(entry.name)) out.push(child);
  }
}

/** sha256 over (relative path, contents) of every hashed file, in sorted order; 12 hex digits. */
export function sourceTreeHash(root: string = ROOT): string {
  const files: string[] = [];
  for (const p of HASHED) listFiles(join(root, p), files);
  const rel = files.map((f) => relative(root, f).split(sep).join('/')).sort();
  const h = createHash('sha256');
  for (const r of rel) {
    h.update(r).update('\0');
    h.update(readFileSync(join(root, r))).update('\0');
  }
  return h.digest('hex').slice(0, 12);
}

/**
 * "0.1.0+src.1a2b3c4d5e6f": the package version and the source tree hash, read from disk
 * at each call (not cached) so a long-lived process sees the code its children would load.
 */
export function codeVersion(): string {
  return `${version}+src.${sourceTreeHash()}`;
}
