#!/usr/bin/python3
"""A small safetensors file written from PyTorch tensors, read by test/store/safetensors.test.ts.

Run with Debian's python3 (torch):
    /usr/bin/python3 test/golden/make_safetensors_torch.py
writes test/golden/torch_small.safetensors and test/golden/torch_small.json (the
expected values). The `safetensors` python package is not installed on this machine,
so the format is written by hand with struct + json, following the specification:
u64 little-endian header length, JSON header (padded with spaces to 8 bytes), data.
Tensors are laid out in name order, NOT largest-dtype-first as spurlab's writer does,
so a U8 tensor of odd length leaves later tensors misaligned: the reader must copy them.
"""
import json
import os
import struct

import torch

MAGIC = "spurlab-golden-safetensors-torch"
VERSION = 1
HERE = os.path.dirname(os.path.abspath(__file__))
DTYPE_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.int32: "I32", torch.int64: "I64", torch.uint8: "U8"}


def main():
    g = torch.Generator().manual_seed(0)
    tensors = {
        "a_mask": torch.tensor([0, 1, 1, 0, 255], dtype=torch.uint8),
        "hidden.bias": torch.rand(3, generator=g, dtype=torch.float32) - 0.5,
        "hidden.weight": torch.randn(3, 4, generator=g, dtype=torch.float32),
        "optimizer.step": torch.tensor([-7, 2**53 + 1, -(2**62)], dtype=torch.int64),
        "labels": torch.tensor([[1, -2], [3, 2**31 - 1]], dtype=torch.int32),
        "noise": torch.rand(2, 2, 1, generator=g, dtype=torch.float64),
        "scalar": torch.tensor(0.25, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    header = {"__metadata__": {"format": "pt", "epoch": "3"}}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(HERE, "torch_small.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)

    def values(t):
        # int64 beyond 2^53 must survive JSON: write every I64 as a decimal string.
        flat = t.reshape(-1).tolist()
        return [str(v) for v in flat] if t.dtype == torch.int64 else flat

    expected = {
        "magic": MAGIC,
        "version": VERSION,
        "generator": "test/golden/make_safetensors_torch.py",
        "torch": torch.__version__,
        "metadata": header["__metadata__"],
        "tensors": {n: {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "values": values(t)} for n, t in tensors.items()},
    }
    with open(os.path.join(HERE, "torch_small.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
