import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/util/errors.ts';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors, type SafetensorsTensor } from '../../src/store/safetensors.ts';

const PYTHON = '/usr/bin/python3';
const GOLDEN = new URL('../golden/', import.meta.url);

function sample(): Record<string, SafetensorsTensor> {
  return {
    'layer.weight': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3.25, 0, 1e-8, -7]) },
    'layer.bias': { dtype: 'F64', shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
    mask: { dtype: 'U8', shape: [3], data: Uint8Array.from([0, 1, 255]) },
    labels: { dtype: 'I32', shape: [2, 1], data: Int32Array.from([-2147483648, 2147483647]) },
    step: { dtype: 'I64', shape: [], data: BigInt64Array.from([9007199254740993n]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
}

/** Builds a safetensors buffer from a raw header object, for malformed-file tests. */
function rawFile(header: unknown, dataBytes: number, headerText = JSON.stringify(header)): Buffer {
  const h = Buffer.from(headerText, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, Buffer.alloc(dataBytes)]);
}

test('encode/decode round-trips every dtype, shape and the metadata', () => {
  const tensors = sample();
  const bytes = encodeSafetensors(tensors, { epoch: '3', note: 'ünïcode' });
  const headerLength = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + headerLength) % 8, 0, 'header padded to 8 bytes');
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { epoch: '3', note: 'ünïcode' });
  assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) {
    assert.equal(back.tensors[name].dtype, t.dtype, name);
    assert.deepEqual(back.tensors[name].shape, t.shape, name);
    assert.equal(back.tensors[name].data.constructor, t.data.constructor, name);
    assert.deepEqual(Array.from(back.tensors[name].data as ArrayLike<unknown>), Array.from(t.data as ArrayLike<unknown>), name);
  }
  // The writer's layout aligns every tensor, so decoding does not copy.
  for (const t of Object.values(back.tensors)) assert.equal(t.data.buffer, bytes.buffer);
});

test('without metadata the header has no __metadata__ and decodes to {}', () => {
  const bytes = encodeSafetensors({ x: { dtype: 'U8', shape: [1], data: Uint8Array.of(7) } });
  assert.ok(!bytes.toString('utf8').includes('__metadata__'));
  assert.deepEqual(decodeSafetensors(bytes).metadata, {});
});

test('the writer rejects data that does not match dtype or shape', () => {
  assert.throws(
    () => encodeSafetensors({ w: { dtype: 'F64', shape: [1], data: Float32Array.of(1) } }),
    /"w" is declared F64 but its data is a Float32Array/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: Float32Array.of(1) } }),
    /"w" has shape \[2, 2\] \(4 elements\) but 1 values/,
  );
  assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }), UserError);
});

test('writeSafetensors writes atomically and leaves no temporary file', () => {
  const dir = tempDir('spurlab-st-');
  const path = join(dir, 'sub', 'model.safetensors');
  writeSafetensors(path, sample(), { epoch: '1' });
  writeSafetensors(path, { x: { dtype: 'U8', shape: [1], data: Uint8Array.of(9) } }, { epoch: '2' });
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['model.safetensors']);
  const back = readSafetensors(path);
  assert.deepEqual(back.metadata, { epoch: '2' });
  assert.deepEqual(Array.from(back.tensors.x.data as Uint8Array), [9]);
});

test('reads a file written from PyTorch (golden), including misaligned tensors', () => {
  const expected = JSON.parse(readFileSync(new URL('torch_small.json', GOLDEN), 'utf8')) as {
    magic: string;
    version: number;
    metadata: Record<string, string>;
    tensors: Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
  };
  assert.equal(expected.magic, 'spurlab-golden-safetensors-torch');
  assert.equal(expected.version, 1);
  const got = readSafetensors(new URL('torch_small.safetensors', GOLDEN).pathname);
  assert.deepEqual(got.metadata, expected.metadata);
  assert.deepEqual(Object.keys(got.tensors).sort(), Object.keys(expected.tensors).sort());
  for (const [name, e] of Object.entries(expected.tensors)) {
    const t = got.tensors[name];
    assert.equal(t.dtype, e.dtype, name);
    assert.deepEqual(t.shape, e.shape, name);
    const values = e.dtype === 'I64' ? e.values.map((v) => BigInt(v)) : e.values;
    assert.deepEqual(Array.from(t.data as ArrayLike<unknown>), values, name);
  }
});

const PYTHON_READER = `
import json, struct, sys, torch
DT = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64, "U8": torch.uint8}
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert (8 + n) % 8 == 0, "header not padded to 8 bytes"
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__", {})
out = {}
for name, e in header.items():
    b, end = e["data_offsets"]
    t = torch.frombuffer(bytearray(raw[8 + n + b:8 + n + end]), dtype=DT[e["dtype"]]) if end > b else torch.zeros(0, dtype=DT[e["dtype"]])
    t = t.reshape(e["shape"])
    vals = t.reshape(-1).tolist()
    out[name] = {"dtype": e["dtype"], "shape": list(t.shape), "values": [str(v) for v in vals] if e["dtype"] == "I64" else vals}
print(json.dumps({"metadata": meta, "tensors": out}))
`;
import { tempDir } from '../helpers.ts';

test('a file written by spurlab is read back by PyTorch', (t) => {
  const path = join(tempDir('spurlab-st-'), 'out.safetensors');
  const tensors = sample();
  writeSafetensors(path, tensors, { source: 'spurlab' });
  const run = spawnSync(PYTHON, ['-c', PYTHON_READER, path], { encoding: 'utf8' });
  // Skip only when the interpreter or torch is missing; any other failure is a failure.
  const missing = run.error
    ? `${PYTHON} not runnable (${run.error.message})`
    : /ModuleNotFoundError: No module named 'torch'/.test(run.stderr)
      ? `${PYTHON} has no torch`
      : undefined;
  if (missing) {
    t.diagnostic(`skipping the PyTorch cross-check: ${missing}`);
    t.skip(missing);
    return;
  }
  assert.equal(run.status, 0, run.stderr);
  const got = JSON.parse(run.stdout) as {
    metadata: Record<string, string>;
    tensors: Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
  };
  assert.deepEqual(got.metadata, { source: 'spurlab' });
  for (const [name, e] of Object.entries(tensors)) {
    assert.equal(got.tensors[name].dtype, e.dtype, name);
    assert.deepEqual(got.tensors[name].shape, e.shape, name);
    const mine = e.dtype === 'I64' ? Array.from(e.data as BigInt64Array, String) : Array.from(e.data as ArrayLike<number>);
    assert.deepEqual(got.tensors[name].values, mine, name);
  }
});

test('malformed files give a UserError naming the file and the tensor', () => {
  const dir = tempDir('spurlab-st-');
  const cases: [string, Buffer, RegExp][] = [
    ['short', Buffer.from([1, 2, 3]), /too short \(3 bytes\)/],
    [
      'long-header',
      (() => {
        const b = Buffer.alloc(16);
        b.writeBigUInt64LE(1000n);
        return b;
      })(),
      /header length 1000 exceeds the 8 bytes/,
    ],
    ['bad-json', rawFile(null, 0, '{"a": '), /header is not valid JSON/],
    ['not-object', rawFile([1, 2], 0), /header must be a JSON object/],
    ['dtype', rawFile({ w: { dtype: 'BF16', shape: [1], data_offsets: [0, 2] } }, 2), /tensor "w" has unsupported dtype "BF16"/],
    [
      'out-of-range',
      rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4),
      /tensor "w" has data_offsets \[0, 8\] outside the 4-byte data buffer/,
    ],
    ['size', rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /tensor "w" has 8 bytes but shape \[3\] of F32 needs 12/],
    [
      'overlap',
      rawFile({ a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, b: { dtype: 'U8', shape: [4], data_offsets: [2, 6] } }, 6),
      /tensor "b" at bytes \[2, 6\] overlaps tensor "a"/,
    ],
    ['gap', rawFile({ a: { dtype: 'U8', shape: [2], data_offsets: [2, 4] } }, 4), /bytes \[0, 2\) before tensor "a" belong to no tensor/],
    ['uncovered', rawFile({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, 5), /data buffer has 5 bytes but the tensors cover only 2/],
    ['shape', rawFile({ a: { dtype: 'U8', shape: [-1], data_offsets: [0, 0] } }, 0), /tensor "a" has shape \[-1\]/],
    ['metadata', rawFile({ __metadata__: { epoch: 3 } }, 0), /"__metadata__" must map names to strings/],
  ];
  for (const [name, bytes, message] of cases) {
    const path = join(dir, `${name}.safetensors`);
    writeFileSync(path, bytes);
    assert.throws(
      () => readSafetensors(path),
      (err: unknown) => {
        assert.ok(err instanceof UserError, `${name}: expected a UserError, got ${String(err)}`);
        assert.ok(err.message.startsWith(path), `${name}: message should name the file: ${err.message}`);
        assert.match(err.message, message, name);
        return true;
      },
    );
  }
  assert.throws(() => readSafetensors(join(dir, 'missing.safetensors')), /missing\.safetensors: cannot read safetensors file \(ENOENT\)/);
});
