// The report in a real browser: Debian's headless Chromium driven by playwright-core,
// for the synthetic store (every section) and for a small real sweep. No console
// errors, no network requests (every request other than the report file itself is
// recorded and aborted), every chart a non-empty SVG, and a screenshot of each page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { type BuildReportResult, buildReport } from '../../src/report/build.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { expandSweep, validateSweepSpec } from '../../src/experiments/grids/spec.ts';
import { runSweepHere } from '../../src/experiments/sweep.ts';
import { SYNTHETIC_SECTIONS, syntheticStore } from './syntheticStore.ts';
import { tempDir } from '../helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A small real sweep (MNIST, MLP, one epoch on a subset): three patterns so the
 * pattern-norm figure has its Pearson r, n = 0 and 3, one seed.
 */
async function realSweepStore(): Promise<ResultsStore> {
  const store = ResultsStore.open(join(tempDir('spurlab-report-real-'), 'results.db'));
  const spec = validateSweepSpec(
    {
      name: 'report-browser-test',
      description: 'a small real sweep for the report test',
      grids: [
        {
          dataset: 'mnist',
          pattern: ['S1', 'S3', 'R3'],
          n: [0, 3],
          target: 0,
          seed: 0,
          model: 'MLP',
          optimizer: 'adam',
          lr: 0.01,
          epochs: 1,
          trainSubset: 2000,
          testSubset: 500,
        },
      ],
    },
    'browser.test.ts',
  );
  const summary = await runSweepHere(expandSweep(spec), store, { artifacts: false });
  assert.equal(summary.failed.length, 0, JSON.stringify(summary.failed));
  return store;
}

interface PageCheck {
  foreignRequests: string[];
  consoleErrors: string[];
  sections: string[];
  screenshot: string;
}

/** Opens a built report, checks every chart, screenshots the full page. */
async function checkPage(context: BrowserContext, report: BuildReportResult): Promise<PageCheck> {
  const pageUrl = pathToFileURL(report.html).href;
  const foreignRequests: string[] = [];
  await context.route('**/*', async (route) => {
    if (route.request().url() === pageUrl) return route.continue();
    foreignRequests.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  await page.goto(pageUrl, { waitUntil: 'load' });
  const charts = await page.$$eval('figure.chart', (figures) =>
    figures.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      return {
        name: f.getAttribute('data-chart'),
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        marks: svg ? svg.querySelectorAll('path, rect, line, text').length : 0,
      };
    }),
  );
  assert.equal(charts.length, report.files.filter((f) => f.endsWith('.svg')).length, 'one figure per chart file');
  for (const c of charts) {
    assert.ok(c.width > 100 && c.height > 100, `chart ${c.name} is ${c.width}x${c.height} px`);
    assert.ok(c.marks > 10, `chart ${c.name} has ${c.marks} SVG elements`);
  }
  const sections = await page.$$eval('main > section', (ss) => ss.map((s) => s.id));
  const screenshot = join(report.out, 'report-screenshot.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();
  await context.unrouteAll();
  return { foreignRequests, consoleErrors, sections, screenshot };
}

test('the report renders offline in headless Chromium', {
  skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`,
  timeout: 120_000,
}, async (t) => {
  const synthetic = syntheticStore();
  const syntheticReport = await buildReport(synthetic, tempDir('spurlab-report-browser-'));
  synthetic.close();
  assert.deepEqual(syntheticReport.sections, SYNTHETIC_SECTIONS);
  const real = await realSweepStore();
  const realReport = await buildReport(real, tempDir('spurlab-report-browser-real-'));
  real.close();
  assert.deepEqual(realReport.sections, ['patterns', 'pattern-norm', 'training-curves', 'settings']);

  const context = await chromium.launchPersistentContext(tempDir('spurlab-chromium-profile-'), {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
  });
  try {
    for (const [what, report, sections] of [
      ['synthetic store', syntheticReport, SYNTHETIC_SECTIONS],
      ['real sweep', realReport, realReport.sections],
    ] as const) {
      const page = await checkPage(context, report);
      t.diagnostic(`${what}: report ${report.html}`);
      t.diagnostic(`${what}: screenshot ${page.screenshot}`);
      t.diagnostic(`${what}: sections filled ${report.sections.join(', ')}`);
      assert.deepEqual(page.sections, [...sections, 'appendix-missing']);
      assert.deepEqual(page.foreignRequests, [], `${what}: the page made network requests`);
      assert.deepEqual(page.consoleErrors, [], `${what}: the page logged errors`);
    }
  } finally {
    await context.close();
  }
});
