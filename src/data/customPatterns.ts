// User-defined "set" patterns, beyond the paper's. Three forms, all turned into a list of
// (row, col, channel, value) assignments for one image shape:
//   patches JSON: [{"row":0,"col":0,"height":5,"width":5,"value":1}, ...] or {"patches": [...]}
//                 value is a number in [0,1] or one number per channel; height/width default 1
//   mask JSON:    {"mask": [[0,1,...], ...], "value": 1 | [r,g,b]}  (H rows of W entries; 1/true = in the pattern)
//   mask PNG:     H x W image; with alpha, pixels with alpha > 0 are in the pattern, otherwise
//                 pixels that are not black; a pattern pixel is set to the PNG's colour / 255
//                 (gray PNG: every channel; RGB PNG on 1-channel data: only if R = G = B)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../util/errors.ts';
import { decodePng } from '../util/png.ts';
import type { ImageShape } from './patterns.ts';

export interface PixelAssignment {
  row: number;
  col: number;
  channel: number;
  value: number;
}

type Json = unknown;

function isRecord(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function channelValues(raw: Json, shape: ImageShape, where: string): number[] {
  const check = (v: Json): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
      throw new UserError(`${where}: value ${JSON.stringify(v)} must be a number in [0, 1]`);
    }
    return v;
  };
  if (raw === undefined) return new Array<number>(shape.channels).fill(1);
  if (Array.isArray(raw)) {
    if (raw.length !== shape.channels) {
      throw new UserError(`${where}: value has ${raw.length} entries, expected one per channel (${shape.channels})`);
    }
    return raw.map(check);
  }
  return new Array<number>(shape.channels).fill(check(raw));
}

function intField(patch: Record<string, Json>, key: string, fallback: number | undefined, where: string): number {
  const v = patch[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new UserError(`${where}: "${key}" is ${JSON.stringify(v)}, expected an integer`);
  }
  return v;
}

function patchAssignments(patches: Json[], shape: ImageShape, source: string): PixelAssignment[] {
  const out: PixelAssignment[] = [];
  patches.forEach((patch, k) => {
    const where = `${source}: patch ${k}`;
    if (!isRecord(patch)) throw new UserError(`${where}: expected an object {row, col, height, width, value}`);
    const row = intField(patch, 'row', undefined, where);
    const col = intField(patch, 'col', undefined, where);
    const height = intField(patch, 'height', 1, where);
    const width = intField(patch, 'width', 1, where);
    if (row < 0 || col < 0 || height < 1 || width < 1 || row + height > shape.height || col + width > shape.width) {
      throw new UserError(
        `${where}: rows ${row}..${row + height - 1}, cols ${col}..${col + width - 1} do not fit in a ${shape.height}x${shape.width} image`,
      );
    }
    const values = channelValues(patch.value, shape, where);
    for (let r = row; r < row + height; r++) {
      for (let c = col; c < col + width; c++) values.forEach((value, channel) => out.push({ row: r, col: c, channel, value }));
    }
  });
  return out;
}

function maskAssignments(doc: Record<string, Json>, shape: ImageShape, source: string): PixelAssignment[] {
  const mask = doc.mask;
  if (!Array.isArray(mask) || mask.length !== shape.height || mask.some((r) => !Array.isArray(r) || r.length !== shape.width)) {
    throw new UserError(`${source}: "mask" must be ${shape.height} rows of ${shape.width} entries (the image size)`);
  }
  const values = channelValues(doc.value, shape, source);
  const out: PixelAssignment[] = [];
  (mask as Json[][]).forEach((rowEntries, r) =>
    rowEntries.forEach((entry, c) => {
      if (entry !== 0 && entry !== 1 && entry !== true && entry !== false && entry !== null) {
        throw new UserError(`${source}: mask[${r}][${c}] is ${JSON.stringify(entry)}, expected 0, 1, true, false or null`);
      }
      if (entry === 1 || entry === true) values.forEach((value, channel) => out.push({ row: r, col: c, channel, value }));
    }),
  );
  return out;
}

// A pattern that sets no pixel leaves every image unchanged (norm 0): almost surely a
// mistake (an empty list, an all-zero mask, a black PNG), and an experiment on it would
// measure nothing.
function nonEmpty(assignments: PixelAssignment[], source: string, what: string): PixelAssignment[] {
  if (assignments.length === 0) throw new UserError(`${source}: the pattern sets no pixels (${what}); expected at least one pixel`);
  return assignments;
}

function jsonAssignments(doc: Json, shape: ImageShape, source: string): PixelAssignment[] {
  if (Array.isArray(doc)) return nonEmpty(patchAssignments(doc, shape, source), source, 'an empty list of patches');
  if (isRecord(doc) && Array.isArray(doc.patches)) return nonEmpty(patchAssignments(doc.patches, shape, source), source, 'an empty "patches" list');
  if (isRecord(doc) && doc.mask !== undefined) return nonEmpty(maskAssignments(doc, shape, source), source, 'no mask entry is 1 or true');
  throw new UserError(`${source}: expected a list of patches, {"patches": [...]} or {"mask": [[...]], "value": ...}`);
}

function parseJson(text: string, source: string): Json {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${source}: invalid JSON (${(e as Error).message})`);
  }
}

export function parseInlineCustomPattern(text: string, shape: ImageShape): PixelAssignment[] {
  return jsonAssignments(parseJson(text, 'pattern JSON'), shape, 'pattern JSON');
}

function pngAssignments(bytes: Uint8Array, shape: ImageShape, source: string): PixelAssignment[] {
  // The expected size is checked against the header before anything is allocated.
  const img = decodePng(bytes, source, { width: shape.width, height: shape.height, what: 'mask' });
  const hasAlpha = img.channels === 2 || img.channels === 4;
  const colors = hasAlpha ? img.channels - 1 : img.channels;
  const out: PixelAssignment[] = [];
  for (let p = 0; p < img.width * img.height; p++) {
    const px = img.data.subarray(p * img.channels, (p + 1) * img.channels);
    const color = Array.from(px.subarray(0, colors));
    const inPattern = hasAlpha ? px[img.channels - 1] > 0 : color.some((v) => v > 0);
    if (!inPattern) continue;
    const row = Math.floor(p / img.width);
    const col = p % img.width;
    let values: number[];
    if (colors === shape.channels) values = color;
    else if (colors === 1) values = new Array<number>(shape.channels).fill(color[0]);
    else if (shape.channels === 1 && color.every((v) => v === color[0])) values = [color[0]];
    else
      throw new UserError(
        `${source}: pixel (${row}, ${col}) has colour ${color.join(',')}, but the images have ${shape.channels} channel(s); use a gray mask`,
      );
    values.forEach((v, channel) => out.push({ row, col, channel, value: v / 255 }));
  }
  return nonEmpty(out, source, hasAlpha ? 'every pixel of the PNG is transparent' : 'every pixel of the PNG is black');
}

/** Reads a pattern file (.json or .png) for images of `shape`. */
export function loadCustomPattern(path: string, shape: ImageShape, baseDir?: string): PixelAssignment[] {
  const full = resolve(baseDir ?? process.cwd(), path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(full);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: ${code === 'ENOENT' ? 'pattern file not found' : `cannot read pattern file (${(e as Error).message})`}`);
  }
  if (/\.png$/i.test(path)) return pngAssignments(bytes, shape, path);
  return jsonAssignments(parseJson(bytes.toString('utf8'), path), shape, path);
}
