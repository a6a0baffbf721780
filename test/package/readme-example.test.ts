// The packed package as a user gets it: `npm pack`, installed into an empty project, then
// the README's "Library" example run by plain Node (no tsx) and a TypeScript file
// type-checked against the shipped .d.ts.
//
// The install skips install scripts (--ignore-scripts): compiling better-sqlite3 and the
// native addon again would take minutes of the suite's budget. What the install scripts
// need is checked instead (every native source is in the tarball), and the binaries this
// checkout built are copied in (better-sqlite3 pinned to this checkout's version), so the
// example runs on the native backend as it would after a full install. tsx, a dev
// dependency, is not installed there: the CLI and its sweep children must run as compiled
// JavaScript. Dependencies come from npm's cache when it has them
// (--prefer-offline): `npm ci` of this repository fills it with the same packages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The first ```js block of the README's "## Library" section: the example users copy. */
export function readmeExample(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Library'));
  assert.ok(section, 'README.md has no "## Library" section');
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, "the README's Library section has no ```js example");
  return m[1];
}

function filesUnder(dir: string, skip: string[]): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (skip.includes(e.name)) return [];
    return e.isDirectory() ? filesUnder(p, skip) : [p];
  });
}

test('the README example runs from the packed package with plain Node, and its types check', { timeout: 180_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'spurlab-pack-'));
  try {
    // npm pack runs `prepare`, so the tarball holds a fresh dist/
    const packed = JSON.parse(
      execFileSync(NPM, ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as { filename: string; files: { path: string }[] }[];
    const tarball = join(work, packed[0].filename);
    const inTarball = new Set(packed[0].files.map((f) => f.path));
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'bin/spurlab.mjs', 'docs/PROTOCOL.md', 'scripts/build-native.mjs']) {
      assert.ok(inTarball.has(f), `the tarball lacks ${f}`);
    }
    const nativeSources = filesUnder(join(ROOT, 'native'), ['build', 'node_modules'])
      .filter((p) => /\.(cc|h|gyp)$/.test(p))
      .map((p) => relative(ROOT, p).split('\\').join('/'));
    for (const f of nativeSources) assert.ok(inTarball.has(f), `the tarball lacks ${f}, which the install script compiles`);
    assert.ok(
      ![...inTarball].some((f) => f.startsWith('native/build/') || f.startsWith('node_modules/') || f.startsWith('test/')),
      'the tarball holds build outputs or tests',
    );

    const project = join(work, 'project');
    mkdirSync(project);
    const sqliteVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')).version;
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'uses-spurlab', private: true, type: 'module', overrides: { 'better-sqlite3': sqliteVersion } }),
    );
    const install = spawnSync(NPM, ['install', tarball, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: project,
      encoding: 'utf8',
    });
    assert.equal(install.status, 0, install.stderr);
    const installed = join(project, 'node_modules', 'spurlab');
    const addon = join(ROOT, 'native', 'build', 'Release', 'spurlab.node');
    if (existsSync(addon)) {
      mkdirSync(join(installed, 'native', 'build', 'Release'), { recursive: true });
      copyFileSync(addon, join(installed, 'native', 'build', 'Release', 'spurlab.node'));
    }

    const sqliteBinary = join('build', 'Release', 'better_sqlite3.node');
    mkdirSync(join(project, 'node_modules', 'better-sqlite3', 'build', 'Release'), { recursive: true });
    copyFileSync(join(ROOT, 'node_modules', 'better-sqlite3', sqliteBinary), join(project, 'node_modules', 'better-sqlite3', sqliteBinary));
    assert.ok(!existsSync(join(project, 'node_modules', 'tsx')), 'tsx is a dev dependency: users do not get it');

    writeFileSync(join(project, 'example.mjs'), readmeExample(readFileSync(join(ROOT, 'README.md'), 'utf8')));
    const env = { ...process.env, NODE_OPTIONS: '' };
    const run = spawnSync(process.execPath, ['example.mjs'], { cwd: project, encoding: 'utf8', env });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0], /^epoch 1: loss \d+\.\d{4}, test accuracy \d+\.\d\d%$/);
    assert.match(lines[1], /^epoch 2: loss \d+\.\d{4}, test accuracy \d+\.\d\d%$/);
    const last = /^spurious examples (\d+), (\d+), (\d+); spurious score (\d\.\d{4}) over 2000 test images$/.exec(lines[2]);
    assert.ok(last, `unexpected last line: ${lines[2]}`);
    const score = Number(last[4]);
    assert.ok(score >= 0 && score <= 1);
    // the trained model learnt MNIST: two short epochs on 5,000 images are well above chance
    assert.ok(Number(/test accuracy (\d+\.\d\d)%/.exec(lines[1])![1]) > 80, lines[1]);

    // the CLI of the installed package runs the compiled code
    const version = spawnSync(process.execPath, [join(installed, 'bin', 'spurlab.mjs'), '--version'], { encoding: 'utf8', env });
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);

    // a sweep with --workers 2: its children are spawned from the installed, compiled CLI
    const sweep = join(project, 'sweep.json');
    writeFileSync(
      sweep,
      JSON.stringify({
        name: 'pack',
        grids: [{ dataset: 'mnist', pattern: 'S3', n: [0, 3], target: 0, seed: 0, model: 'LargeMLP', epochs: 1, trainSubset: 500, testSubset: 200 }],
      }),
    );
    const storePath = join(project, 'store', 'results.db');
    const cli = (argv: string[]) =>
      spawnSync(process.execPath, [join(installed, 'bin', 'spurlab.mjs'), ...argv], { cwd: project, encoding: 'utf8', env });
    const swept = cli(['sweep', sweep, '--store', storePath, '--workers', '2', '--quiet']);
    assert.equal(swept.status, 0, swept.stderr);
    const listed = cli(['runs', '--store', storePath, '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    const runs = JSON.parse(listed.stdout) as { status: string; config: { n: number }; result: { score: number } }[];
    assert.deepEqual(runs.map((r) => [r.config.n, r.status]).sort(), [
      [0, 'done'],
      [3, 'done'],
    ]);

    // TypeScript sees real types: the @ts-expect-error lines fail the check if any were `any`
    // (a TypeScript project on Node has @types/node, as spurlab's declarations name Buffer)
    writeFileSync(
      join(project, 'check.ts'),
      [
        "import { makeTrainConfig, tensor, scoreRun, ResultsStore, type TrainConfig, type SpuriousScore } from 'spurlab';",
        "const config: TrainConfig = makeTrainConfig({ data: 'mnistv8-3-0-0', epochs: 1 });",
        'const epochs: number = config.epochs;',
        'const shape: readonly number[] = tensor([[1, 2], [3, 4]]).shape;',
        "type Score = ReturnType<typeof scoreRun>['score'];",
        'const s: Score = 0.5;',
        'let store: ResultsStore | undefined;',
        '// @ts-expect-error: epochs is a number',
        'const wrong: string = config.epochs;',
        '// @ts-expect-error: no such option',
        "makeTrainConfig({ data: 'mnistv8-3-0-0', epoch: 1 });",
        'export const used: unknown[] = [epochs, shape, s, store, wrong, null as SpuriousScore | null];',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['check.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], {
      cwd: project,
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
