#pragma once

#include <cstdint>

namespace spur {

enum class ReduceOp { Sum, Max };

// x: contiguous shape -> out: shape with the masked axes set to 1 (keepdims), contiguous.
// Sums accumulate in double, so the result is the float32 rounding of the exact sum up
// to double error whatever the order.
void reduce(ReduceOp op, const float* x, const int64_t* shape, const bool* mask, int ndim, float* out);

}  // namespace spur
