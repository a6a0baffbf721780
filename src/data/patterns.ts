// Spurious patterns (PROTOCOL section 3). A pattern is compiled for one image shape into
// one of two effects: "set" (these HWC positions get these values: S1, S2, S3, Co and
// custom patches/masks) or "noise" (x + scale * u, clipped to [0,1], with ONE noise image
// u = RandomState(seed).rand(H, W, C)). Arithmetic is float64, results are stored float32,
// which is what the reference's numpy code does to its float32 images.
import { UserError } from '../util/errors.ts';
import { RandomState } from './numpyRandom.ts';
import { imageSize, type Dataset } from './dataset.ts';
import { loadCustomPattern, parseInlineCustomPattern, type PixelAssignment } from './customPatterns.ts';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export type PatternEffect =
  | { kind: 'set'; indices: Int32Array; values: Float32Array } // flat HWC positions, value written at each
  | { kind: 'noise'; noise: Float64Array; scale: number }; // u: [H, W, C] float64; x <- clip(x + scale * u)

export interface Pattern {
  /** Canonical name: 'S3', 'R1', 'noise:l2=3.5', 'custom:masks/bar.png', ... */
  name: string;
  /** The reference implementation's id (v1, v3, ...), or null for patterns beyond the paper. */
  id: string | null;
  description: string;
  shape: ImageShape;
  effect: PatternEffect;
}

interface Rect {
  rows: [number, number]; // inclusive
  cols: [number, number];
}

interface BuiltinPattern {
  name: string;
  id: string;
  description: string;
  rect?: Rect;
  noiseScale?: number;
}

export const BUILTIN_PATTERNS: readonly BuiltinPattern[] = [
  { name: 'S1', id: 'v1', description: 'pixel (0,0) set to 1 in every channel', rect: { rows: [0, 0], cols: [0, 0] } },
  { name: 'S2', id: 'v3', description: 'rows 0-2, cols 0-2 set to 1', rect: { rows: [0, 2], cols: [0, 2] } },
  { name: 'S3', id: 'v8', description: 'rows 0-4, cols 0-4 set to 1', rect: { rows: [0, 4], cols: [0, 4] } },
  { name: 'R1', id: 'v18', description: 'x + 0.25 u, clipped to [0,1]', noiseScale: 0.25 },
  { name: 'R2', id: 'v19', description: 'x + 0.5 u, clipped to [0,1]', noiseScale: 0.5 },
  { name: 'R3', id: 'v20', description: 'x + u, clipped to [0,1]', noiseScale: 1 },
  { name: 'Co', id: 'v30', description: 'rows 3-24, cols 13-15 set to 1 (a vertical bar)', rect: { rows: [3, 24], cols: [13, 15] } },
];

const PATTERN_SYNTAX =
  'S1, S2, S3, R1, R2, R3, Co (or v1, v3, v8, v18, v19, v20, v30), noise:l2=<norm>, noise:scale=<s>, a .json/.png pattern file, or inline JSON';

/** The built-in pattern for a paper name or reference id (case-insensitive), or undefined. */
export function findBuiltinPattern(raw: string): BuiltinPattern | undefined {
  const key = raw.trim().toLowerCase();
  return BUILTIN_PATTERNS.find((p) => p.name.toLowerCase() === key || p.id === key || (p.name === 'Co' && key === 'core'));
}

export interface PatternOptions {
  /** Base directory for relative pattern file paths (default: the working directory). */
  baseDir?: string;
}

/** u: the one noise image of the protocol, drawn in HWC order. */
export function noiseImage(shape: ImageShape, seed: number): Float64Array {
  return new RandomState(seed).rand(shape.height, shape.width, shape.channels);
}

function rectAssignment(rect: Rect, shape: ImageShape): PixelAssignment[] {
  // Like numpy slicing, a rectangle reaching past the image is cut at its border.
  const out: PixelAssignment[] = [];
  for (let r = rect.rows[0]; r <= Math.min(rect.rows[1], shape.height - 1); r++) {
    for (let c = rect.cols[0]; c <= Math.min(rect.cols[1], shape.width - 1); c++) {
      for (let ch = 0; ch < shape.channels; ch++) out.push({ row: r, col: c, channel: ch, value: 1 });
    }
  }
  return out;
}

function setEffect(assignments: PixelAssignment[], shape: ImageShape): PatternEffect {
  // Later assignments win, as when patches are painted in order.
  const byIndex = new Map<number, number>();
  for (const a of assignments) byIndex.set((a.row * shape.width + a.col) * shape.channels + a.channel, a.value);
  const indices = Int32Array.from([...byIndex.keys()].sort((x, y) => x - y));
  const values = Float32Array.from(indices, (i) => byIndex.get(i) as number);
  return { kind: 'set', indices, values };
}

function parseNonNegative(raw: string, spec: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0) {
    throw new UserError(`pattern "${spec}": got ${JSON.stringify(raw)}, expected a non-negative number`);
  }
  return v;
}

function checkShape(shape: ImageShape): void {
  const ok = [shape.height, shape.width, shape.channels].every((v) => Number.isInteger(v) && v > 0);
  if (!ok) throw new RangeError(`pattern: bad image shape ${shape.height}x${shape.width}x${shape.channels}`);
}

/**
 * Compiles a pattern for images of `shape`; `seed` is the data set seed (it fixes u).
 * Unknown names and malformed specs are UserErrors listing the accepted syntax.
 */
export function makePattern(spec: string, shape: ImageShape, seed: number, options: PatternOptions = {}): Pattern {
  checkShape(shape);
  const builtin = findBuiltinPattern(spec);
  if (builtin) {
    const effect: PatternEffect = builtin.rect
      ? setEffect(rectAssignment(builtin.rect, shape), shape)
      : { kind: 'noise', noise: noiseImage(shape, seed), scale: builtin.noiseScale as number };
    return { name: builtin.name, id: builtin.id, description: builtin.description, shape, effect };
  }
  const trimmed = spec.trim();
  const noiseMatch = /^noise:(l2|scale)=(.*)$/i.exec(trimmed);
  if (noiseMatch) {
    const [, mode, raw] = noiseMatch;
    const value = parseNonNegative(raw, spec);
    const noise = noiseImage(shape, seed);
    let scale = value;
    if (mode.toLowerCase() === 'l2') {
      // Scale u to the requested l2 norm; clipping to [0,1] can only shrink the actual change.
      const norm = Math.sqrt(noise.reduce((acc, v) => acc + v * v, 0));
      scale = value / norm;
    }
    const name = `noise:${mode.toLowerCase()}=${value}`;
    const description = mode.toLowerCase() === 'l2' ? `x + u * ${value} / ||u||_2, clipped to [0,1]` : `x + ${value} u, clipped to [0,1]`;
    return { name, id: null, description, shape, effect: { kind: 'noise', noise, scale } };
  }
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    const assignments = parseInlineCustomPattern(trimmed, shape);
    return { name: `custom:${trimmed}`, id: null, description: 'custom pattern (inline JSON)', shape, effect: setEffect(assignments, shape) };
  }
  if (/\.(json|png)$/i.test(trimmed)) {
    const assignments = loadCustomPattern(trimmed, shape, options.baseDir);
    return { name: `custom:${trimmed}`, id: null, description: `custom pattern from ${trimmed}`, shape, effect: setEffect(assignments, shape) };
  }
  throw new UserError(`unknown pattern "${spec}", expected ${PATTERN_SYNTAX}`);
}

/** Applies the pattern to one HWC image in place. image: [H, W, C] */
export function applyPattern(pattern: Pattern, image: Float32Array): void {
  const e = pattern.effect;
  if (e.kind === 'set') {
    for (let k = 0; k < e.indices.length; k++) image[e.indices[k]] = e.values[k];
    return;
  }
  const { noise, scale } = e;
  for (let j = 0; j < noise.length; j++) {
    const v = image[j] + scale * noise[j];
    image[j] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

function checkPatternFits(pattern: Pattern, d: Dataset): void {
  const s = pattern.shape;
  if (s.height !== d.height || s.width !== d.width || s.channels !== d.channels) {
    throw new UserError(
      `pattern ${pattern.name} was made for ${s.height}x${s.width}x${s.channels} images, ` + `but ${d.name} has ${d.height}x${d.width}x${d.channels}`,
    );
  }
}

/** Applies the pattern in place to the images at `indices` of a data set. */
export function applyPatternToIndices(pattern: Pattern, d: Dataset, indices: readonly number[]): void {
  checkPatternFits(pattern, d);
  const size = imageSize(d);
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= d.n) throw new RangeError(`applyPatternToIndices: index ${i} outside 0..${d.n - 1}`);
    applyPattern(pattern, d.images.subarray(i * size, (i + 1) * size));
  }
}

/** The empirical l2 norm of a pattern: the mean over the images of ||pattern(x) - x||_2. */
export function patternNorm(pattern: Pattern, d: Dataset): number {
  checkPatternFits(pattern, d);
  if (d.n === 0) return 0;
  const size = imageSize(d);
  const scratch = new Float32Array(size);
  let total = 0;
  for (let i = 0; i < d.n; i++) {
    const x = d.images.subarray(i * size, (i + 1) * size);
    scratch.set(x);
    applyPattern(pattern, scratch);
    let sq = 0;
    for (let j = 0; j < size; j++) {
      const diff = scratch[j] - x[j];
      sq += diff * diff;
    }
    total += Math.sqrt(sq);
  }
  return total / d.n;
}
