// The PNG codec: round trips, checks against zlib's CRC and python's decoder when present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { crc32, decodePng, encodePng, type RasterImage } from '../../src/util/png.ts';
import { tempDir } from '../helpers.ts';

function pattern(width: number, height: number, channels: RasterImage['channels']): RasterImage {
  const data = new Uint8Array(width * height * channels).map((_, i) => (i * 37 + (i >> 5)) & 0xff);
  return { width, height, channels, data };
}

test('crc32 of "IEND" is the constant every PNG ends with', () => {
  assert.equal(crc32(new TextEncoder().encode('IEND')), 0xae426082);
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});

for (const channels of [1, 2, 3, 4] as const) {
  test(`encode/decode round trip, ${channels} channel(s)`, () => {
    const img = pattern(7, 5, channels);
    const back = decodePng(encodePng(img));
    assert.deepEqual(back, img);
  });
}

test('decoder undoes the sub, up, average and paeth filters', () => {
  // One 3x4 gray image, rows stored with filters 1..4 and pre-computed filtered bytes.
  const width = 3;
  const rows = [
    [10, 20, 30],
    [15, 25, 35],
    [40, 5, 250],
    [0, 255, 128],
  ];
  const filtered: number[] = [];
  const prev = (y: number, x: number) => (y > 0 && x >= 0 ? rows[y - 1][x] : 0);
  const left = (y: number, x: number) => (x > 0 ? rows[y][x - 1] : 0);
  const paeth = (a: number, b: number, c: number) => {
    const p = a + b - c;
    const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
  };
  rows.forEach((row, y) => {
    const f = y + 1;
    filtered.push(f);
    row.forEach((v, x) => {
      const a = left(y, x);
      const b = prev(y, x);
      const c = x > 0 ? prev(y, x - 1) : 0;
      const pred = f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
      filtered.push((v - pred) & 0xff);
    });
  });
  const png = Buffer.from(encodePng({ width, height: 4, channels: 1, data: new Uint8Array(12) }));
  // Replace the IDAT chunk: rebuild the file from its parts.
  const idat = deflateSync(Uint8Array.from(filtered));
  const ihdr = png.subarray(8, 8 + 25);
  const chunk = (type: string, body: Uint8Array) => {
    const b = Buffer.alloc(12 + body.length);
    b.writeUInt32BE(body.length, 0);
    b.write(type, 4, 'latin1');
    b.set(body, 8);
    b.writeUInt32BE(crc32(b.subarray(4, 8 + body.length)), 8 + body.length);
    return b;
  };
  const file = Buffer.concat([png.subarray(0, 8), ihdr, chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
  assert.deepEqual(Array.from(decodePng(file).data), rows.flat());
});

test('bad input: wrong signature, bad sizes', () => {
  assert.throws(() => decodePng(new Uint8Array(20), 'x.png'), /x\.png: not a PNG/);
  assert.throws(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) }), /expected 2x2x3 = 12/);
  assert.throws(() => encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) }), /positive integers/);
});

test('python (zlib + struct) reads back what we wrote', { skip: !hasPython() }, () => {
  const dir = tempDir('spurlab-png-');
  const path = join(dir, 'a.png');
  const img = pattern(9, 4, 3);
  writeFileSync(path, encodePng(img));
  const script = [
    'import sys, zlib, struct',
    'b = open(sys.argv[1], "rb").read()',
    'assert b[:8] == b"\\x89PNG\\r\\n\\x1a\\n"',
    'pos, idat = 8, b""',
    'while pos < len(b):',
    '    n, = struct.unpack(">I", b[pos:pos+4]); t = b[pos+4:pos+8]; body = b[pos+8:pos+8+n]',
    '    assert struct.unpack(">I", b[pos+8+n:pos+12+n])[0] == zlib.crc32(t + body)',
    '    if t == b"IDAT": idat += body',
    '    pos += 12 + n',
    'raw = zlib.decompress(idat)',
    'print(sum(raw))',
  ].join('\n');
  const out = execFileSync('python3', ['-c', script, path], { encoding: 'utf8' });
  assert.equal(
    Number(out.trim()),
    img.data.reduce((a, b) => a + b, 0),
  );
});

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'pass']);
    return true;
  } catch {
    return false;
  }
}
