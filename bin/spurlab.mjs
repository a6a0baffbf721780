#!/usr/bin/env node
// Thin launcher: runs the compiled CLI in dist/ (built by `npm install` / `npm run build`),
// so no TypeScript is transpiled at run time.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../dist/cli/main.js', import.meta.url);

if (!existsSync(entry)) {
  process.stderr.write(`spurlab: ${fileURLToPath(entry)} is missing: the compiled JavaScript has not been built; run \`npm run build\` in ${root}\n`);
  process.exit(2);
}
// In a development clone (one with .git), an edit to src/ after the last build would run old
// code without notice; the check stats the source files only, a few milliseconds.
if (existsSync(new URL('../.git', import.meta.url)) && existsSync(new URL('../src', import.meta.url))) {
  const built = statSync(entry).mtimeMs;
  const newer = (dir) =>
    readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = `${dir}/${e.name}`;
      return e.isDirectory() ? newer(p) : statSync(p).mtimeMs > built;
    });
  if (newer(fileURLToPath(new URL('../src', import.meta.url)))) {
    process.stderr.write('spurlab: WARNING: src/ changed after the last build; run `npm run build` (this runs the old dist/)\n');
  }
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
