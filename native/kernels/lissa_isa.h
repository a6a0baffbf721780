// The row loops of the LiSSA update (scaledSum, scaledSumOuter), compiled once per ISA
// (lissa_isa.cc) and chosen by activeIsa() like batch norm's. Every element is computed
// in double in the reference's order and rounded once, so all ISAs and thread counts
// give the same floats: these loops are limited by the float-double conversions, which
// the portable build does two at a time.
#pragma once

#include <cstdint>

namespace spur {

struct LissaIsaKernels {
  // out[i] = x[i] * alpha + y[i] + z[i] over [0, len)
  void (*scaledSumRow)(const float* x, double alpha, const float* y, const float* z, int64_t len, float* out);
  // out[i] = x[i] * alpha + y[i] + sum_r c[r] * b[r * ldb + i] over [0, len), r = 0..k-1 in order
  void (*scaledSumOuterRow)(const float* x, double alpha, const float* y, const double* c, const float* b, int64_t k,
                            int64_t ldb, int64_t len, float* out);
};

const LissaIsaKernels& lissaKernels();

}  // namespace spur
