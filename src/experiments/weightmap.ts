// MLP weight maps (PROTOCOL section 6): the first layer of an MLP sees every pixel, so
// the largest weight any hidden unit gives a pixel shows where the network looks. A rare
// pattern that was learnt shows up as a bright patch (S3: the top-left 5x5 square), most
// clearly in the absolute difference from a model trained on clean data.
//
// Inputs are HWC images flattened, so feature f = (row * W + col) * C + channel. For
// colour images the map is either the max over channels too ('max', one panel) or one
// panel per channel ('split').
//
// The heat map is drawn here into an RGB buffer: viridis (perceptually uniform, readable
// in grey) from a 9-entry table, each weight an s x s block, a colour bar with its range
// written in a 3x5 pixel font, so no plotting library is needed.
import type { Module } from '../nn/module.ts';
import { MLP } from '../nn/models/mlp.ts';
import type { RasterImage } from '../util/png.ts';
import { UserError } from '../util/errors.ts';

export type ChannelMode = 'max' | 'split';

export interface WeightMap {
  height: number;
  width: number;
  channels: number; // of the input images
  channelMode: ChannelMode;
  panels: Float64Array[]; // each [height * width], row-major
  panelNames: string[];
}

export interface InputShape {
  height: number;
  width: number;
  channels: number;
}

const CHANNEL_NAMES = ['R', 'G', 'B'];

/** The model as an MLP, or a UserError naming the model. */
export function requireMlp(model: Module, modelName: string): MLP {
  if (!(model instanceof MLP)) {
    throw new UserError(`weight maps need an MLP (its first layer sees the pixels directly); the model is ${modelName}`);
  }
  return model;
}

/** Max over hidden units of the first-layer weights, per input pixel. */
export function firstLayerWeightMap(model: Module, modelName: string, shape: InputShape, channelMode: ChannelMode = 'max'): WeightMap {
  const w = requireMlp(model, modelName).firstLayerWeight(); // [hidden, H*W*C]
  const { height, width, channels } = shape;
  const features = height * width * channels;
  if (w.rank !== 2 || w.shape[1] !== features) {
    throw new UserError(`${modelName}: first-layer weight of shape [${w.shape.join(', ')}] does not take ${height}x${width}x${channels} images`);
  }
  const v = w.values();
  const hidden = w.shape[0];
  const perChannel = Array.from({ length: channels }, () => new Float64Array(height * width).fill(-Infinity));
  for (let j = 0; j < hidden; j++) {
    for (let f = 0; f < features; f++) {
      const c = f % channels;
      const pixel = (f - c) / channels;
      const x = v[j * features + f];
      if (x > perChannel[c][pixel]) perChannel[c][pixel] = x;
    }
  }
  if (channels === 1 || channelMode === 'split') {
    return {
      height,
      width,
      channels,
      channelMode,
      panels: perChannel,
      panelNames: channels === 1 ? ['max weight'] : CHANNEL_NAMES.slice(0, channels),
    };
  }
  const combined = perChannel[0].map((_, p) => Math.max(...perChannel.map((m) => m[p])));
  return { height, width, channels, channelMode, panels: [combined], panelNames: ['max weight (all channels)'] };
}

/** |a - b| panel by panel (a model's map against a clean model's). */
export function weightMapDifference(a: WeightMap, b: WeightMap): WeightMap {
  if (a.height !== b.height || a.width !== b.width || a.panels.length !== b.panels.length) {
    throw new UserError(
      `cannot compare weight maps of ${a.height}x${a.width}x${a.panels.length} and ${b.height}x${b.width}x${b.panels.length}: the models take different inputs`,
    );
  }
  return {
    ...a,
    panels: a.panels.map((p, i) => p.map((v, k) => Math.abs(v - b.panels[i][k]))),
    panelNames: a.panelNames.map((n) => `|difference| of ${n}`),
  };
}

export interface MapStats {
  min: number;
  max: number;
  mean: number;
  /** The largest values, with their position (panel = channel in split mode). */
  top: { panel: number; row: number; col: number; value: number }[];
}

export function weightMapStats(map: WeightMap, topK = 10): MapStats {
  const all: { panel: number; row: number; col: number; value: number }[] = [];
  map.panels.forEach((p, panel) => p.forEach((value, k) => all.push({ panel, row: Math.floor(k / map.width), col: k % map.width, value })));
  const values = all.map((e) => e.value);
  const top = all
    .slice()
    .sort((x, y) => y.value - x.value)
    .slice(0, topK);
  return { min: Math.min(...values), max: Math.max(...values), mean: values.reduce((s, v) => s + v, 0) / values.length, top };
}

// Viridis sampled at 0, 1/8, .., 1 (matplotlib's values); linear in between.
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 73, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [110, 206, 88],
  [253, 231, 37],
];

/** The colour of t in [0, 1] (clamped). */
export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + f * (b[c] - a[c]))) as [number, number, number];
}

// 3x5 glyphs, rows top to bottom, bit 2 = left column.
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 1, 1, 1],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2],
  '-': [0, 0, 7, 0, 0],
  '+': [0, 2, 7, 2, 0],
  e: [7, 4, 7, 4, 7],
};
const FONT_SCALE = 2;
const GLYPH_ADVANCE = 4 * FONT_SCALE;

/** A tick label that fits the tiny font: 3 significant digits. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(2);
}

interface Canvas {
  width: number;
  height: number;
  data: Uint8Array;
}

function fillRect(cv: Canvas, x0: number, y0: number, w: number, h: number, rgb: readonly number[]): void {
  for (let y = Math.max(0, y0); y < Math.min(cv.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(cv.width, x0 + w); x++) cv.data.set(rgb, (y * cv.width + x) * 3);
  }
}

function drawText(cv: Canvas, text: string, x0: number, y0: number): void {
  [...text].forEach((ch, i) => {
    const rows = GLYPHS[ch];
    if (!rows) return;
    rows.forEach((bits, r) => {
      for (let c = 0; c < 3; c++) {
        if (bits & (4 >> c)) fillRect(cv, x0 + i * GLYPH_ADVANCE + c * FONT_SCALE, y0 + r * FONT_SCALE, FONT_SCALE, FONT_SCALE, [0, 0, 0]);
      }
    });
  });
}

export interface HeatmapOptions {
  scale?: number; // pixels per weight (default 10)
  vmin?: number; // colour range (default: the map's min and max)
  vmax?: number;
}

/** Panels side by side, then a colour bar labelled with vmax (top), the middle and vmin (bottom). */
export function renderWeightMap(map: WeightMap, opts: HeatmapOptions = {}): RasterImage {
  const scale = opts.scale ?? 10;
  if (!Number.isInteger(scale) || scale < 1 || scale > 64) throw new UserError(`scale: got ${scale}, expected an integer in 1..64`);
  const stats = weightMapStats(map, 0);
  const vmin = opts.vmin ?? stats.min;
  const vmax = opts.vmax ?? stats.max;
  if (!(vmax > vmin)) throw new UserError(`colour range: got vmin ${vmin} and vmax ${vmax}, expected vmin < vmax`);
  const margin = 12;
  const gap = 12;
  const barWidth = 16;
  const labels = [vmax, (vmin + vmax) / 2, vmin].map(formatTick);
  const labelWidth = Math.max(...labels.map((l) => l.length)) * GLYPH_ADVANCE;
  const panelW = map.width * scale;
  const panelH = map.height * scale;
  const barX = margin + map.panels.length * (panelW + gap);
  const cv: Canvas = { width: barX + barWidth + 6 + labelWidth + margin, height: panelH + 2 * margin, data: new Uint8Array(0) };
  cv.data = new Uint8Array(cv.width * cv.height * 3).fill(255);
  const t = (v: number) => (v - vmin) / (vmax - vmin);
  map.panels.forEach((panel, i) => {
    const x0 = margin + i * (panelW + gap);
    for (let r = 0; r < map.height; r++) {
      for (let c = 0; c < map.width; c++) fillRect(cv, x0 + c * scale, margin + r * scale, scale, scale, viridis(t(panel[r * map.width + c])));
    }
  });
  for (let y = 0; y < panelH; y++) fillRect(cv, barX, margin + y, barWidth, 1, viridis(1 - y / Math.max(1, panelH - 1)));
  const textH = 5 * FONT_SCALE;
  drawText(cv, labels[0], barX + barWidth + 6, margin);
  drawText(cv, labels[1], barX + barWidth + 6, margin + Math.round((panelH - textH) / 2));
  drawText(cv, labels[2], barX + barWidth + 6, margin + panelH - textH);
  return { width: cv.width, height: cv.height, channels: 3, data: cv.data };
}
