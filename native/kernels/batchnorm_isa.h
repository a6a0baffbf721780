// The per-element loops of batch norm, compiled once per ISA (batchnorm_isa.cc) and
// chosen by activeIsa() like the GEMM and convolution kernels. Sums run in kBnLanes
// double lanes: element i of a run of `len` goes to lane i % kBnLanes while a full
// group of kBnLanes remains, the tail to lane 0; so the order of every sum depends on
// the shape alone, never on the thread count.
#pragma once

#include <cstdint>

namespace spur {

constexpr int kBnLanes = 16;

struct BnIsaKernels {
  // s1[l] += sum(x - shift), s2[l] += sum((x - shift)^2) over x[0, len), per lane l.
  void (*moments)(const float* x, int64_t len, double shift, double* s1, double* s2);
  // out = (x - mean) * scale + shift in double, rounded once; then max(., 0) when relu
  // (NaN -> 0, as the reference's !(v > 0)).
  void (*normalize)(const float* x, int64_t len, double mean, double scale, double shift, bool relu, float* out);
  // With g = mask > 0 ? dy : 0 (g = dy when mask is null): s1[l] += sum(g),
  // s2[l] += sum(g * (x - mean)).
  void (*gradSums)(const float* x, const float* dy, const float* mask, int64_t len, double mean, double* s1, double* s2);
  // dx = a g + bx x + c0 (with g as above), or dx = a g when x is null.
  void (*inputGrad)(const float* x, const float* dy, const float* mask, int64_t len, double a, double bx, double c0,
                    float* dx);
};

const BnIsaKernels& bnKernels();

}  // namespace spur
