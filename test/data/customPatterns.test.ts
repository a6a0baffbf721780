// Issue 18 cases 11 and 12: a PNG pattern whose header claims a huge size is refused
// from its header (naming the file, before anything is allocated), and a custom pattern
// that sets no pixel (norm 0) is refused in every form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { UserError } from '../../src/util/errors.ts';
import { crc32, decodePng, encodePng, MAX_PNG_BYTES } from '../../src/util/png.ts';
import { makePattern, type ImageShape } from '../../src/data/patterns.ts';
import { tempDir } from '../helpers.ts';

const GRAY: ImageShape = { height: 28, width: 28, channels: 1 };
const RGB: ImageShape = { height: 32, width: 32, channels: 3 };
const dir = tempDir('spurlab-custom-patterns-');

function assertUserError(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message "${e.message}" should contain "${p}"`);
    return true;
  });
}

function chunk(type: string, body: Uint8Array): Buffer {
  const b = Buffer.alloc(12 + body.length);
  b.writeUInt32BE(body.length, 0);
  b.write(type, 4, 'latin1');
  b.set(body, 8);
  b.writeUInt32BE(crc32(b.subarray(4, 8 + body.length)), 8 + body.length);
  return b;
}

/** A gray PNG whose IHDR says width x height, with `idat` as its (deflated) image data. */
function forgedPng(width: number, height: number, raw: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  const signature = encodePng({ width: 1, height: 1, channels: 1, data: new Uint8Array(1) }).subarray(0, 8);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

test('a PNG pattern whose header claims 100000 x 100000 is refused from its header, naming the file', () => {
  const path = join(dir, 'huge.png');
  writeFileSync(path, forgedPng(100_000, 100_000, new Uint8Array(29 * 28)));
  const heapBefore = process.memoryUsage().arrayBuffers;
  assertUserError(() => makePattern(path, GRAY, 0), path, 'mask is 100000x100000, expected the image size 28x28');
  // Decoded without an expected size, the size limit refuses it just as early.
  assertUserError(
    () => decodePng(forgedPng(100_000, 100_000, new Uint8Array(10)), 'huge.png'),
    'huge.png',
    '100000x100000 pixels',
    String(MAX_PNG_BYTES),
  );
  assert.ok(process.memoryUsage().arrayBuffers - heapBefore < 64 << 20, 'nothing near 10^10 bytes was allocated');
});

test('PNG image data beyond what the header says is refused, not inflated whole', () => {
  // 28x28 in the header, 64 MiB of zeros in IDAT (a deflate bomb of about 64 KiB)
  const bomb = forgedPng(28, 28, new Uint8Array(64 << 20));
  assert.ok(bomb.length < 1 << 20);
  assertUserError(() => decodePng(bomb, 'bomb.png'), 'bomb.png', 'PNG image data is corrupt', 'more than the 28x28');
  // exactly the header's amount still decodes
  const ok = decodePng(forgedPng(28, 28, new Uint8Array(29 * 28)), 'ok.png', { width: 28, height: 28 });
  assert.equal(ok.data.length, 28 * 28);
});

test('a PNG with a short IHDR or a zero size is a clear error', () => {
  const png = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) });
  const shortHeader = Buffer.concat([png.subarray(0, 8), chunk('IHDR', new Uint8Array(4))]);
  assertUserError(() => decodePng(shortHeader, 'short.png'), 'short.png', 'IHDR chunk has 4 bytes, expected 13');
  assertUserError(() => decodePng(forgedPng(0, 5, new Uint8Array(5)), 'zero.png'), 'zero.png', '0x5', 'positive width and height');
});

test('custom patterns that set no pixel are refused in every form', () => {
  const write = (name: string, content: string | Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  assertUserError(() => makePattern('[]', GRAY, 0), 'pattern JSON', 'sets no pixels', 'empty list of patches');
  assertUserError(() => makePattern(' [ ] ', GRAY, 0), 'sets no pixels');
  const emptyFile = write('empty.json', '[]');
  assertUserError(() => makePattern(emptyFile, GRAY, 0), emptyFile, 'sets no pixels');
  assertUserError(() => makePattern('{"patches": []}', RGB, 0), 'empty "patches" list');
  const zeros = Array.from({ length: 28 }, () => new Array(28).fill(0));
  assertUserError(() => makePattern(JSON.stringify({ mask: zeros }), GRAY, 0), 'no mask entry is 1 or true');
  const black = write('black.png', encodePng({ width: 28, height: 28, channels: 1, data: new Uint8Array(28 * 28) }));
  assertUserError(() => makePattern(black, GRAY, 0), black, 'every pixel of the PNG is black');
  const clear = write(
    'clear.png',
    encodePng({ width: 32, height: 32, channels: 4, data: new Uint8Array(32 * 32 * 4).fill(255).map((v, i) => (i % 4 === 3 ? 0 : v)) }),
  );
  assertUserError(() => makePattern(clear, RGB, 0), clear, 'every pixel of the PNG is transparent');
  // one pixel is enough
  const one = makePattern('[{"row":3,"col":4,"value":0}]', GRAY, 0);
  assert.ok(one.effect.kind === 'set' && one.effect.indices.length === 1);
});
