// Chart builders: each spec compiles without a single vega-lite or vega warning, draws
// the number of marks its data implies, and renders to a deterministic SVG and a PNG
// with readable text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { View } from 'vega';
import {
  deletionChart,
  membershipInferenceChart,
  mitigationChart,
  normScatterChart,
  optimizerBarChart,
  scoreVsNChart,
  sensitivityChart,
  weightMapChart,
} from '../../src/report/charts.ts';
import { type VegaLiteSpec, chartView, pngTextRenders, renderPng, renderSvg, renumberSvgIds } from '../../src/report/render.ts';
import {
  deletionBars,
  miaPoints,
  mitigationPoints,
  normGroups,
  optimizerBars,
  scorePoints,
  sensitivityPoints,
  weightPanels,
} from './chartFixtures.ts';

interface SceneNode {
  marktype?: string;
  role?: string;
  items?: SceneNode[];
}

/** Items per mark type among the chart's own marks (not axes, legends or titles). */
function markCounts(view: View): Record<string, number> {
  const counts: Record<string, number> = {};
  const visit = (mark: SceneNode): void => {
    if (mark.role === 'mark' && mark.marktype) counts[mark.marktype] = (counts[mark.marktype] ?? 0) + (mark.items?.length ?? 0);
    for (const item of mark.items ?? []) for (const child of item.items ?? []) visit(child);
  };
  visit((view.scenegraph() as unknown as { root: SceneNode }).root);
  return counts;
}

async function check(spec: VegaLiteSpec, expected: Record<string, number>): Promise<string> {
  const { view, warnings } = await chartView(spec);
  assert.deepEqual(warnings, []);
  assert.deepEqual(markCounts(view), expected);
  view.finalize();
  const svg = await renderSvg(spec, 'test');
  assert.match(svg, /^<svg [^>]*width="\d+" height="\d+"/);
  assert.ok(svg.length > 2000, `SVG of ${svg.length} characters`);
  return svg;
}

// Marks: a line's items are its points; an error bar is one rule plus two tick rects.
test('score vs n: a line per series, a point and an error bar per (series, n)', async () => {
  const svg = await check(scoreVsNChart(scorePoints(), { title: 'Spurious score by pattern', seriesTitle: 'pattern' }), {
    line: 10,
    symbol: 10,
    rule: 10,
    rect: 20,
  });
  assert.match(svg, /Spurious score by pattern/);
  assert.match(svg, />S3</);
});

test('score vs n with several settings: one panel each, wrapped panels with their own x axis', async () => {
  const spec = scoreVsNChart(scorePoints(['MNIST', 'Fashion-MNIST', 'CIFAR-10', 'MNIST, SGD']), { title: 'by pattern', seriesTitle: 'pattern' });
  assert.deepEqual((spec as { resolve?: unknown }).resolve, { axis: { x: 'independent' } });
  const svg = await check(spec, { line: 40, symbol: 40, rule: 40, rect: 80 });
  for (const facet of ['MNIST', 'Fashion-MNIST', 'CIFAR-10', 'MNIST, SGD']) assert.ok(svg.includes(`>${facet}<`), facet);
});

test('optimizer and deletion bars: one bar per (group, series), deletion in its fixed order', async () => {
  await check(optimizerBarChart(optimizerBars(), { title: 'Optimizers' }), { rect: 9 + 18, rule: 9 });
  const spec = deletionChart(deletionBars(), { title: 'Deletion' }) as { layer: { encoding: { color: { scale: { domain: string[] } } } }[] };
  assert.deepEqual(spec.layer[0].encoding.color.scale.domain, ['before', 'incremental', 'influence', 'retrain']);
  await check(spec as VegaLiteSpec, { rect: 8 + 16, rule: 8 });
});

test('pattern norm scatter: a labelled point per pattern, r and p in the title', async () => {
  const svg = await check(normScatterChart(normGroups(), { title: 'Pattern norm vs score' }), { symbol: 6, text: 6, rule: 6, rect: 12 });
  assert.match(svg, /Pearson r = 0\.97, p = 0\.001/);
});

test('membership inference: spurious and all examples against n, a chance line', async () => {
  await check(membershipInferenceChart(miaPoints(), { title: 'MIA' }), { line: 8, symbol: 8, rule: 8 + 1, rect: 16 });
});

test('occlusion curves: no points and no empty error-bar layer when there is no SEM', async () => {
  await check(sensitivityChart(sensitivityPoints(), { title: 'Occlusion' }), { line: 2 * 51 });
});

test('mitigation: positive strengths on the log axis, strength 0 as dashed references', async () => {
  // 4 positive strengths x 2 n x 2 metrics; references: 2 n x 2 metrics.
  await check(mitigationChart(mitigationPoints(), { title: 'Weight decay', strengthTitle: 'weight decay' }), {
    line: 16,
    symbol: 16,
    rule: 16 + 4,
    rect: 32,
  });
});

test('weight maps: 28x28 rects per panel, each panel with its own colour bar', async () => {
  const svg = await check(weightMapChart(weightPanels(), { title: 'Weights' }), { rect: 2 * 784 });
  assert.equal((svg.match(/<linearGradient /g) ?? []).length, 2, 'two colour bars');
  assert.throws(() => weightMapChart([{ title: 'bad', values: [1, 2, 3] }], { title: 'x' }), /3 values, expected 28x28 = 784/);
});

test('SVG ids are renumbered per chart, so renders are byte-identical and charts can share a page', async () => {
  const spec = weightMapChart(weightPanels(), { title: 'Weights' });
  const a = await renderSvg(spec, 'weights-1');
  const b = await renderSvg(spec, 'weights-1');
  assert.equal(a, b);
  assert.match(a, /id="weights-1-0"/);
  assert.match(a, /url\(#weights-1-0\)/);
  assert.equal(
    renumberSvgIds('<svg><g id="clip7"/><path clip-path="url(#clip7)"/><use href="#clip7"/></svg>', 'c'),
    '<svg><g id="c-0"/><path clip-path="url(#c-0)"/><use href="#c-0"/></svg>',
  );
});

test('PNG export renders text (a font is found) and scales', async () => {
  assert.ok(pngTextRenders(), 'resvg found no font: install fonts-dejavu-core');
  const svg = await renderSvg(scoreVsNChart(scorePoints(), { title: 't', seriesTitle: 'pattern' }));
  const png = renderPng(svg, 2);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  const svgWidth = Number(/width="(\d+)"/.exec(svg)![1]);
  assert.equal(png.readUInt32BE(16), 2 * svgWidth);
});
