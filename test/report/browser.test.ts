// The report in a real browser: Debian's headless Chromium driven by playwright-core.
// No console errors, no network requests (every request other than the report file
// itself is recorded and aborted), every chart a non-empty SVG, and a screenshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { buildReport } from '../../src/report/build.ts';
import { SYNTHETIC_SECTIONS, syntheticStore } from './syntheticStore.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

test('the report renders offline in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`, timeout: 60_000 }, async (t) => {
  const store = syntheticStore();
  const outDir = mkdtempSync(join(tmpdir(), 'spurlab-report-browser-'));
  const report = await buildReport(store, outDir);
  store.close();
  assert.deepEqual(report.sections, SYNTHETIC_SECTIONS);
  const pageUrl = pathToFileURL(report.html).href;

  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'spurlab-chromium-profile-')), {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
  });
  try {
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

    const charts = await page.$$eval('figure.chart', (figures) => figures.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      return {
        name: f.getAttribute('data-chart'),
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        marks: svg ? svg.querySelectorAll('path, rect, line, text').length : 0,
      };
    }));
    const expectedCharts = report.files.filter((f) => f.endsWith('.svg')).length;
    assert.equal(charts.length, expectedCharts, 'one figure per chart file');
    for (const c of charts) {
      assert.ok(c.width > 100 && c.height > 100, `chart ${c.name} is ${c.width}x${c.height} px`);
      assert.ok(c.marks > 10, `chart ${c.name} has ${c.marks} SVG elements`);
    }
    const sectionIds = await page.$$eval('main > section', (ss) => ss.map((s) => s.id));
    assert.deepEqual(sectionIds, [...SYNTHETIC_SECTIONS, 'appendix-missing']);

    const screenshot = join(outDir, 'report-screenshot.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    t.diagnostic(`screenshot: ${screenshot}`);
    t.diagnostic(`report: ${report.html}`);

    assert.deepEqual(foreignRequests, [], 'the page made network requests');
    assert.deepEqual(consoleErrors, [], 'the page logged errors');
  } finally {
    await context.close();
  }
});
