// Building the report from a results store (and the demo's page), and the CLI command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ResultsStore } from '../../src/store/results.ts';
import { summarizeWithBaseline } from '../../src/experiments/summaries.ts';
import { buildDemoPage, buildReport } from '../../src/report/build.ts';
import { reportCommand } from '../../src/cli/commands/report.ts';
import { SECTION_CATALOG } from '../../src/report/catalog.ts';
import { parseCommandArgs } from '../../src/cli/command.ts';
import { UserError } from '../../src/util/errors.ts';
import { SYNTHETIC_SECTIONS, syntheticStore } from './syntheticStore.ts';
import { tempDir } from '../helpers.ts';

/** Every URL-like reference a page could load from: attributes and CSS url()s. */
function externalReferences(html: string): string[] {
  const refs = [...html.matchAll(/\b(?:src|href|xlink:href|action|poster)="([^"]*)"/g)]
    .map((m) => m[1])
    .concat([...html.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1]))
    .concat([...html.matchAll(/@import/g)].map(() => '@import'));
  // In-page anchors, inline gradient/clip references and the relative links to the side files are not loads.
  return refs.filter((r) => !r.startsWith('#') && !/^(charts|tables)\/[\w.-]+\.(svg|png|md|tex)$/.test(r));
}

const store = syntheticStore();
const outDir = tempDir('spurlab-report-build-');
const report = await buildReport(store, outDir);

test('the synthetic store fills the sections it has data for, in page order', () => {
  assert.deepEqual(report.sections, SYNTHETIC_SECTIONS);
  assert.deepEqual(
    report.missing.map((m) => m.id),
    ['datasets', 'unlearning', 'detection', 'mitigation-input-noise', 'mitigation-clipping'],
  );
  assert.deepEqual(report.missing.find((m) => m.id === 'mitigation-input-noise')?.presets, ['paper-mitigation-input-noise']);
  assert.deepEqual(report.warnings, []);
});

test('files: report.html, an SVG and a PNG per chart, Markdown and LaTeX per table', () => {
  assert.equal(report.files[0], join(outDir, 'report.html'));
  for (const f of report.files) assert.ok(existsSync(f), f);
  const svgs = report.files.filter((f) => f.endsWith('.svg'));
  assert.equal(report.files.filter((f) => f.endsWith('.png')).length, svgs.length);
  assert.equal(report.files.filter((f) => f.endsWith('.md')).length, report.files.filter((f) => f.endsWith('.tex')).length);
  for (const name of [
    'score-vs-n-by-pattern',
    'score-vs-n-by-model',
    'optimizer-bars',
    'deletion',
    'membership-inference',
    'sensitivity',
    'weights-1',
    'mitigation-weight-decay',
    'pattern-norm-1',
  ]) {
    assert.ok(svgs.includes(join(outDir, 'charts', `${name}.svg`)), name);
  }
  const md = readFileSync(join(outDir, 'tables', 'settings.md'), 'utf8');
  assert.match(
    md,
    /\| S3 \| MLP \| adam lr 0\.01 \| 0 \| 0 \| 3 \| 3 \| 0\.\d{3} \| 0\.\d{3} \| 0\.\d{3}–0\.\d{3} \| [\d.]+e-\d+ \| 0\.050 \(min\.\) \| 9\d\.\d% \|/,
  );
  assert.match(readFileSync(join(outDir, 'tables', 'settings.tex'), 'utf8'), /\\toprule[\s\S]*\\bottomrule/);
});

test('the HTML is self-contained: no scripts, no external loads, sections only with data, an appendix', () => {
  const html = readFileSync(report.html, 'utf8');
  assert.doesNotMatch(html, /<script|<link|<img|<iframe/i);
  assert.deepEqual(externalReferences(html), []);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.equal((html.match(/<figure class="chart"/g) ?? []).length, report.files.filter((f) => f.endsWith('.svg')).length);
  for (const id of SYNTHETIC_SECTIONS) assert.match(html, new RegExp(`<section id="${id}">`));
  assert.doesNotMatch(html, /<section id="datasets">/);
  assert.match(html, /<section id="appendix-missing">[\s\S]*<code>spurlab sweep paper-mitigation-clipping<\/code>/);
  assert.match(html, /Curves for Fashion-MNIST: run <code>spurlab sweep paper-fashion-patterns<\/code>/);
  // Inlined charts keep unique ids: no two charts define the same one.
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length);
});

test('building again gives byte-identical files (no timestamps, no random ids)', async () => {
  const again = await buildReport(store, tempDir('spurlab-report-build-again-'));
  assert.equal(readFileSync(again.html, 'utf8'), readFileSync(report.html, 'utf8'));
  assert.deepEqual(readFileSync(join(again.out, 'charts', 'deletion.png')), readFileSync(join(outDir, 'charts', 'deletion.png')));
});

test('an empty store gives a page with only the appendix', async () => {
  const empty = ResultsStore.open(join(tempDir('spurlab-report-empty-'), 'results.db'));
  const r = await buildReport(empty, tempDir('spurlab-report-empty-out-'));
  empty.close();
  assert.deepEqual(r.sections, []);
  assert.equal(r.missing.length, SECTION_CATALOG.length, 'every section of the catalog is missing');
  assert.deepEqual(r.files, [r.html]);
  assert.match(readFileSync(r.html, 'utf8'), /spurlab sweep paper-deletion/);
});

test('the demo page: the score-vs-n chart, its PNG and the table from summarizeWithBaseline rows', async () => {
  const rows = summarizeWithBaseline(store, ['pattern', 'n'], { kind: 'train', model: 'MLP' });
  const dir = tempDir('spurlab-report-demo-');
  const demo = await buildDemoPage(rows, dir, { facts: ['MNIST, LargeMLP, Adam, target 0, seed 0'] });
  assert.equal(demo.html, join(dir, 'demo.html'));
  assert.ok(existsSync(demo.svg) && existsSync(demo.png!));
  const html = readFileSync(demo.html, 'utf8');
  assert.equal((html.match(/<figure class="chart"/g) ?? []).length, 1);
  assert.match(html, /MNIST, LargeMLP, Adam, target 0, seed 0/);
  assert.match(html, /<td>S3<\/td><td class="num">3<\/td>/);
  assert.deepEqual(externalReferences(html), []);
});

function captureIo(): { out: string[]; err: string[]; io: { out: (l: string) => void; err: (l: string) => void; isTTY: boolean } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false } };
}

// The CLI tests use a store of membership-inference runs only: the command, not the report, is under test.
const smallStore = syntheticStore(true);

test('spurlab report --json lists the sections, the missing ones and the files', async () => {
  const dir = tempDir('spurlab-report-cli-');
  const cap = captureIo();
  const code = await reportCommand.run(parseCommandArgs(reportCommand, ['--store', smallStore.path, '--out', dir, '--json']), cap.io);
  assert.equal(code, 0);
  const json = JSON.parse(cap.out.join('\n')) as { out: string; sections: string[]; missing: { id: string }[]; files: string[] };
  assert.equal(json.out, dir);
  assert.deepEqual(json.sections, ['membership-inference']);
  assert.equal(json.missing.length, SECTION_CATALOG.length - 1, 'all but the one filled section');
  assert.deepEqual(
    json.files.map((f) => f.slice(dir.length + 1)),
    [
      'report.html',
      'charts/membership-inference.svg',
      'charts/membership-inference.png',
      'tables/membership-inference.md',
      'tables/membership-inference.tex',
    ],
  );
});

test('spurlab report prints where the report is and what would fill the rest', async () => {
  const cap = captureIo();
  // A directory holding results.db is accepted for --store.
  await reportCommand.run(
    parseCommandArgs(reportCommand, ['--store', dirname(smallStore.path), '--out', tempDir('spurlab-report-cli-text-')]),
    cap.io,
  );
  assert.match(cap.out[0], /^report: .*report\.html$/);
  assert.equal(cap.out[1], 'sections filled: membership-inference');
  assert.ok(cap.out.some((l) => l.includes('Mitigation: gradient clipping: spurlab sweep paper-mitigation-clipping')));
});

test('spurlab report: a missing, a non-store or a forgotten path is a UserError naming it', async () => {
  const dir = tempDir('spurlab-report-cli-bad-');
  const run = (argv: string[]): Promise<number> => reportCommand.run(parseCommandArgs(reportCommand, argv), captureIo().io);
  const missing = join(dir, 'nope.db');
  await assert.rejects(run(['--store', missing, '--out', dir]), (e: unknown) => e instanceof UserError && e.message.includes(missing));
  assert.ok(!existsSync(missing), 'a missing store is not created');
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a database, just some words that are long enough to not be a header');
  await assert.rejects(run(['--store', text, '--out', dir]), (e: unknown) => e instanceof UserError && e.message.includes(text));
  await assert.rejects(run(['--store', store.path]), (e: unknown) => e instanceof UserError && /--out DIR is required/.test(e.message));
  await assert.rejects(run(['--store', store.path, '--out', text]), (e: unknown) => e instanceof UserError && e.message.includes(text));
});
