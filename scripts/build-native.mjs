// Builds the native backend with node-gyp (run by `npm install`).
// A failed build is not fatal: spurlab then runs on the reference backend and says so
// once at start-up. `--strict` (npm run build:native) makes a failure an error.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
const nativeDir = join(root, 'native');

if (!existsSync(join(nativeDir, 'binding.gyp'))) {
  console.warn('spurlab: native/binding.gyp not found; using the reference backend.');
  process.exit(strict ? 1 : 0);
}
if (process.env.SPURLAB_SKIP_NATIVE === '1') {
  console.warn('spurlab: SPURLAB_SKIP_NATIVE=1, native backend not built.');
  process.exit(0);
}
const gyp = process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp';
const res = spawnSync(gyp, ['rebuild', '--jobs', 'max'], { cwd: nativeDir, stdio: 'inherit' });
if (res.status !== 0) {
  const why = res.error ? res.error.message : `node-gyp exited with ${res.status}`;
  console.warn(`spurlab: WARNING: the native backend failed to build (${why}); the reference backend will be used.`);
  process.exit(strict ? 1 : 0);
}
