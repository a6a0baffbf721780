// Elementwise kernels: broadcasting binary ops, unary ops, affine, clamp, and strided
// gather/scatter. Strided operands point at their first element (offset applied).
#pragma once

#include <cstdint>

namespace spur {

enum class BinaryOp { Add, Sub, Mul, Div, Max, Min, Eq, Gt, MaskPos, Pow, AddRelu };
enum class UnaryOp { Neg, Exp, Log, Relu, Sqrt, Rsqrt, Abs, Sign, Step, Square, Reciprocal, Tanh, Sigmoid };

// a, b: read through strides over shape (stride 0 broadcasts) -> out: contiguous shape
void binary(BinaryOp op, const float* a, const int64_t* aStrides, const float* b,
            const int64_t* bStrides, const int64_t* shape, int ndim, float* out);
// x, out: [n]
void unary(UnaryOp op, const float* x, int64_t n, float* out);
// x, out: [n]; out = x * alpha + beta
void affine(const float* x, int64_t n, double alpha, double beta, float* out);
// x, y, z, out: [n]; out = x * alpha + y + z (in double, as the reference)
void scaledSum(const float* x, double alpha, const float* y, const float* z, int64_t n, float* out);
// x, y, out: [m, n]; a: [k, m]; b: [k, n]; out = x * alpha + y + a^T b (double per element)
void scaledSumOuter(const float* x, double alpha, const float* y, const float* a, const float* b, int64_t m, int64_t k, int64_t n,
                    float* out);
// x, out: [n]
void clamp(const float* x, int64_t n, double lo, double hi, float* out);
// x, dy, dx: [n]; dx = lo <= x <= hi ? dy : 0
void clampBackward(const float* x, const float* dy, int64_t n, double lo, double hi, float* dx);
// x read through strides over shape -> out: contiguous shape
void stridedCopy(const float* x, const int64_t* strides, const int64_t* shape, int ndim, float* out);
// x: contiguous shape -> out[sum(i_d * strides[d])] += x[i...]
void stridedScatterAdd(const float* x, const int64_t* shape, int ndim, const int64_t* strides, float* out);

}  // namespace spur
