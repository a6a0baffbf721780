// Shape simplification shared by the strided kernels: dropping unit dimensions and merging
// neighbours that are contiguous in every operand turns most broadcasts into one or two
// flat loops (a channel broadcast over [N, C, H, W] becomes [N, C, H*W]).
#pragma once

#include <cstdint>

namespace spur {

constexpr int kMaxDims = 16;

struct StridedShape {
  int ndim = 0;
  int64_t shape[kMaxDims];
  int64_t strides[2][kMaxDims];  // up to two strided operands; the output is contiguous
};

// Builds the simplified shape for `operands` (1 or 2) stride vectors over shape. The
// result always has ndim >= 1 (a scalar becomes [1]).
inline StridedShape simplifyStrides(const int64_t* shape, int ndim, const int64_t* const* strides,
                                    int operands) {
  StridedShape s;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 1) continue;
    int k = s.ndim;
    if (k > 0) {
      bool merge = true;
      for (int o = 0; o < operands; ++o)
        if (s.strides[o][k - 1] != strides[o][d] * shape[d]) merge = false;
      if (merge) {
        s.shape[k - 1] *= shape[d];
        for (int o = 0; o < operands; ++o) s.strides[o][k - 1] = strides[o][d];
        continue;
      }
    }
    s.shape[k] = shape[d];
    for (int o = 0; o < operands; ++o) s.strides[o][k] = strides[o][d];
    s.ndim = k + 1;
  }
  if (s.ndim == 0) {
    s.ndim = 1;
    s.shape[0] = 1;
    for (int o = 0; o < operands; ++o) s.strides[o][0] = 0;
  }
  return s;
}

// Element offset of operand o at the start of outer row `row` (all dims but the last).
inline int64_t rowOffset(const StridedShape& s, int o, int64_t row) {
  int64_t off = 0;
  for (int d = s.ndim - 2; d >= 0; --d) {
    off += (row % s.shape[d]) * s.strides[o][d];
    row /= s.shape[d];
  }
  return off;
}

// Steps a multi-index over the outer dims (all but the last) by one row, updating offsets.
inline void nextRow(const StridedShape& s, int64_t* idx, int64_t* off, int operands) {
  for (int d = s.ndim - 2; d >= 0; --d) {
    for (int o = 0; o < operands; ++o) off[o] += s.strides[o][d];
    if (++idx[d] < s.shape[d]) return;
    for (int o = 0; o < operands; ++o) off[o] -= s.strides[o][d] * s.shape[d];
    idx[d] = 0;
  }
}

inline void rowIndex(const StridedShape& s, int64_t row, int64_t* idx) {
  for (int d = s.ndim - 2; d >= 0; --d) {
    idx[d] = row % s.shape[d];
    row /= s.shape[d];
  }
}

}  // namespace spur
