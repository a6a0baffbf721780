// The packed package as a user gets it: `npm pack`, then `npm install <tarball>` into an
// empty project, install scripts included: spurlab's own compiles the native backend with
// node-gyp there. Then the README's "Library" example runs with plain Node (no tsx), the
// installed CLI runs a sweep, and a TypeScript file type-checks against the shipped .d.ts.
//
// The project's package.json approves the two install scripts as a user's would
// (allowScripts; npm install --strict-allow-scripts fails on any not covered) and denies
// msgpackr-extract's, as spurlab's own package.json does. better-sqlite3's install script
// runs prebuild-install, which downloads a prebuilt binary from GitHub; this machine may
// have no network, so the binary this checkout built is offered as a local prebuild
// (prebuild-install's local-prebuilds directory) instead of compiling SQLite for a minute.
// tsx, a dev dependency, is not installed there: the CLI and its sweep children must run
// as compiled JavaScript. Dependencies come from npm's cache when it has them
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
      JSON.stringify({
        name: 'uses-spurlab',
        private: true,
        type: 'module',
        // the tarball's prebuild below is of this checkout's version
        overrides: { 'better-sqlite3': sqliteVersion },
        // what `npm install-scripts approve spurlab better-sqlite3` writes for a tarball
        allowScripts: { [`file:${tarball}`]: true, 'better-sqlite3': true, 'msgpackr-extract': false },
      }),
    );
    const prebuilds = join(work, 'prebuilds');
    const stage = join(work, 'prebuild-stage');
    mkdirSync(join(stage, 'build', 'Release'), { recursive: true });
    const sqliteBinary = join('build', 'Release', 'better_sqlite3.node');
    copyFileSync(join(ROOT, 'node_modules', 'better-sqlite3', sqliteBinary), join(stage, sqliteBinary));
    mkdirSync(prebuilds);
    // prebuild-install's asset name: {name}-v{version}-{runtime}-v{abi}-{platform}-{arch}.tar.gz
    const asset = `better-sqlite3-v${sqliteVersion}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    execFileSync('tar', ['czf', join(prebuilds, asset), '-C', stage, 'build']);
    const started = Date.now();
    const install = spawnSync(
      NPM,
      ['install', tarball, '--strict-allow-scripts', '--foreground-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
      { cwd: project, encoding: 'utf8', env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds } },
    );
    assert.equal(install.status, 0, install.stdout + install.stderr);
    const installSeconds = (Date.now() - started) / 1000;
    assert.doesNotMatch(install.stderr, /not yet covered by allowScripts/);
    const installed = join(project, 'node_modules', 'spurlab');
    // spurlab's install script compiled the addon here (node-gyp leaves its objects beside it)
    assert.ok(existsSync(join(installed, 'native', 'build', 'Release', 'spurlab.node')), `no native addon was built:\n${install.stdout}`);
    assert.ok(existsSync(join(installed, 'native', 'build', 'Release', 'obj.target')), 'the addon was not compiled by node-gyp');
    assert.match(install.stdout, /> spurlab@[\d.]+ install\n> node scripts\/build-native\.mjs/);
    assert.match(install.stdout, /> better-sqlite3@[\d.]+ install\n> prebuild-install/);
    assert.ok(existsSync(join(project, 'node_modules', 'better-sqlite3', sqliteBinary)), 'better-sqlite3 has no binary');
    assert.ok(!existsSync(join(project, 'node_modules', 'tsx')), 'tsx is a dev dependency: users do not get it');
    process.stderr.write(`# npm install of the tarball (spurlab's addon compiled): ${installSeconds.toFixed(1)} s\n`);

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
    // and on the native backend the install script built
    const doctor = spawnSync(process.execPath, [join(installed, 'bin', 'spurlab.mjs'), 'doctor', '--json'], { encoding: 'utf8', env });
    assert.equal(JSON.parse(doctor.stdout).backend, 'native', doctor.stdout + doctor.stderr);

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
        "import { DETECT_DEFAULTS, detectScores, liraKind, runLira, type DetectOptions, type LiraResult } from 'spurlab';",
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
        'const detectOptions: DetectOptions = { ...DETECT_DEFAULTS, depth: 10 };',
        "type Auc = LiraResult['spurious']['auc'];",
        'const auc: Auc = 0.5;',
        'const liraRun: typeof runLira = runLira;',
        'const kindName: string = liraKind.name;',
        '// @ts-expect-error: a detection method is named by a string',
        'detectScores(3, null as never);',
        'export const used: unknown[] = [epochs, shape, s, store, wrong, null as SpuriousScore | null, detectOptions, auc, liraRun, kindName];',
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
