// N-API glue of the native backend: unpack and check arguments (addon_args.h), then call
// the plain C++ kernels in kernels/. Signatures mirror src/backend/kernels.ts.
#include <napi.h>

#include <cstring>

#include "addon_args.h"
#include "kernels/cpu.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/memory.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"
#include "kernels/threadpool.h"

using namespace spurnapi;

namespace {

template <class E, size_t N>
E enumArg(const Call& c, size_t i, const char* name, const char* const (&names)[N]) {
  const std::string s = string(c, i, name);
  for (size_t k = 0; k < N; ++k)
    if (s == names[k]) return static_cast<E>(k);
  c.rangeError(std::string(name) + " \"" + s + "\" is not a known op");
}

const char* const kBinaryOps[] = {"add", "sub", "mul", "div", "max", "min", "eq", "gt", "maskPos", "pow", "addRelu"};
const char* const kUnaryOps[] = {"neg", "exp", "log", "relu", "sqrt", "rsqrt", "abs", "sign",
                                 "step", "square", "reciprocal", "tanh", "sigmoid"};
const char* const kReduceOps[] = {"sum", "max"};

void Matmul(const Napi::CallbackInfo& info) {
  Call c{info, "matmul"};
  c.argc(8);
  F32 a = f32(c, 0, "a"), b = f32(c, 1, "b");
  const int64_t m = integer(c, 2, "m", 1), k = integer(c, 3, "k", 1), n = integer(c, 4, "n", 1);
  const bool ta = boolean(c, 5, "transA"), tb = boolean(c, 6, "transB");
  F32 out = f32(c, 7, "out");
  length(c, a, product(c, {m, k}, "a"), ta ? "[K, M]" : "[M, K]");
  length(c, b, product(c, {k, n}, "b"), tb ? "[N, K]" : "[K, N]");
  length(c, out, product(c, {m, n}, "out"), "[M, N]");
  distinct(c, out, a);
  distinct(c, out, b);
  spur::sgemmRowMajor(ta, tb, m, n, k, a.data, b.data, out.data, spur::GemmEpilogue{}, true);
}

void Linear(const Napi::CallbackInfo& info) {
  Call c{info, "linear"};
  c.argc(8);
  F32 x = f32(c, 0, "x"), w = f32(c, 1, "w");
  F32 bias = optionalF32(c, 2, "bias");
  const int64_t m = integer(c, 3, "m", 1), k = integer(c, 4, "k", 1), n = integer(c, 5, "n", 1);
  const bool relu = boolean(c, 6, "relu");
  F32 out = f32(c, 7, "out");
  length(c, x, product(c, {m, k}, "x"), "[M, K]");
  length(c, w, product(c, {n, k}, "w"), "[N, K]");
  if (bias.data != nullptr) length(c, bias, n, "[N]");
  length(c, out, product(c, {m, n}, "out"), "[M, N]");
  distinct(c, out, x);
  distinct(c, out, w);
  distinct(c, out, bias);
  spur::GemmEpilogue ep;
  ep.colBias = bias.data;
  ep.relu = relu;
  spur::sgemmRowMajor(false, true, m, n, k, x.data, w.data, out.data, ep, true);
}

// An operand read through strides may be out itself only when it is read exactly where
// out is written (same start, contiguous strides over the non-unit dims).
void stridedAlias(const Call& c, const F32& out, const F32& in, int64_t offset, const std::vector<int64_t>& strides,
                  const std::vector<int64_t>& shape) {
  if (!overlaps(out, in)) return;
  bool same = in.data + offset == out.data;
  int64_t expect = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] != 1 && strides[d] != expect) same = false;
    expect *= shape[d];
  }
  if (!same) c.rangeError(std::string("out overlaps ") + in.name + " other than element for element");
}

void Binary(const Napi::CallbackInfo& info) {
  Call c{info, "binary"};
  c.argc(9);
  const auto op = enumArg<spur::BinaryOp>(c, 0, "op", kBinaryOps);
  const int64_t aOff = integer(c, 2, "aOffset", 0);
  const auto aStrides = intList(c, 3, "aStrides", -kMaxCount);
  const int64_t bOff = integer(c, 5, "bOffset", 0);
  const auto bStrides = intList(c, 6, "bStrides", -kMaxCount);
  const auto shape = intList(c, 7, "outShape", 0);
  F32 a = f32(c, 1, "a"), b = f32(c, 4, "b"), out = f32(c, 8, "out");
  if (aStrides.size() != shape.size() || bStrides.size() != shape.size())
    c.rangeError("aStrides, bStrides and outShape must have the same length");
  length(c, out, product(c, shape, "out"), "outShape");
  if (stridedBounds(c, "a", a.len, aOff, aStrides, shape)) return;
  stridedBounds(c, "b", b.len, bOff, bStrides, shape);
  stridedAlias(c, out, a, aOff, aStrides, shape);
  stridedAlias(c, out, b, bOff, bStrides, shape);
  spur::binary(op, a.data + aOff, aStrides.data(), b.data + bOff, bStrides.data(), shape.data(),
               static_cast<int>(shape.size()), out.data);
}

void Unary(const Napi::CallbackInfo& info) {
  Call c{info, "unary"};
  c.argc(3);
  const auto op = enumArg<spur::UnaryOp>(c, 0, "op", kUnaryOps);
  F32 x = f32(c, 1, "x"), out = f32(c, 2, "out");
  length(c, out, x.len, "x's length");
  sameOrDistinct(c, out, x);
  spur::unary(op, x.data, x.len, out.data);
}

void Affine(const Napi::CallbackInfo& info) {
  Call c{info, "affine"};
  c.argc(4);
  F32 x = f32(c, 0, "x");
  const double alpha = number(c, 1, "alpha"), beta = number(c, 2, "beta");
  F32 out = f32(c, 3, "out");
  length(c, out, x.len, "x's length");
  sameOrDistinct(c, out, x);
  spur::affine(x.data, x.len, alpha, beta, out.data);
}

void ScaledSum(const Napi::CallbackInfo& info) {
  Call c{info, "scaledSum"};
  c.argc(5);
  F32 x = f32(c, 0, "x");
  const double alpha = number(c, 1, "alpha");
  F32 y = f32(c, 2, "y"), z = f32(c, 3, "z"), out = f32(c, 4, "out");
  length(c, y, x.len, "x's length");
  length(c, z, x.len, "x's length");
  length(c, out, x.len, "x's length");
  sameOrDistinct(c, out, x);
  sameOrDistinct(c, out, y);
  sameOrDistinct(c, out, z);
  spur::scaledSum(x.data, alpha, y.data, z.data, x.len, out.data);
}

void ScaledSumOuter(const Napi::CallbackInfo& info) {
  Call c{info, "scaledSumOuter"};
  c.argc(9);
  F32 x = f32(c, 0, "x");
  const double alpha = number(c, 1, "alpha");
  F32 y = f32(c, 2, "y"), a = f32(c, 3, "a"), b = f32(c, 4, "b");
  const int64_t m = integer(c, 5, "m", 1), k = integer(c, 6, "k", 1), n = integer(c, 7, "n", 1);
  F32 out = f32(c, 8, "out");
  length(c, x, product(c, {m, n}, "x"), "[M, N]");
  length(c, y, product(c, {m, n}, "y"), "[M, N]");
  length(c, a, product(c, {k, m}, "a"), "[K, M]");
  length(c, b, product(c, {k, n}, "b"), "[K, N]");
  length(c, out, product(c, {m, n}, "out"), "[M, N]");
  // out may be x or y itself (an element is read before it is written), never part of a or b
  sameOrDistinct(c, out, x);
  sameOrDistinct(c, out, y);
  distinct(c, out, a);
  distinct(c, out, b);
  spur::scaledSumOuter(x.data, alpha, y.data, a.data, b.data, m, k, n, out.data);
}

void Clamp(const Napi::CallbackInfo& info) {
  Call c{info, "clamp"};
  c.argc(4);
  F32 x = f32(c, 0, "x");
  const double lo = number(c, 1, "lo"), hi = number(c, 2, "hi");
  F32 out = f32(c, 3, "out");
  length(c, out, x.len, "x's length");
  sameOrDistinct(c, out, x);
  spur::clamp(x.data, x.len, lo, hi, out.data);
}

void ClampBackward(const Napi::CallbackInfo& info) {
  Call c{info, "clampBackward"};
  c.argc(5);
  F32 x = f32(c, 0, "x"), dy = f32(c, 1, "dy");
  const double lo = number(c, 2, "lo"), hi = number(c, 3, "hi");
  F32 dx = f32(c, 4, "dx");
  length(c, dy, x.len, "x's length");
  length(c, dx, x.len, "x's length");
  sameOrDistinct(c, dx, x);
  sameOrDistinct(c, dx, dy);
  spur::clampBackward(x.data, dy.data, x.len, lo, hi, dx.data);
}

void Reduce(const Napi::CallbackInfo& info) {
  Call c{info, "reduce"};
  c.argc(5);
  const auto op = enumArg<spur::ReduceOp>(c, 0, "op", kReduceOps);
  const auto shape = intList(c, 2, "shape", 0);
  const auto mask = boolList(c, 3, "reduceMask");
  F32 x = f32(c, 1, "x"), out = f32(c, 4, "out");
  if (mask.size() != shape.size()) c.rangeError("reduceMask and shape must have the same length");
  length(c, x, product(c, shape, "x"), "shape");
  std::vector<int64_t> kept(shape);
  bool maskArr[kMaxRank];
  for (size_t d = 0; d < shape.size(); ++d) {
    maskArr[d] = mask[d];
    if (mask[d]) kept[d] = 1;
  }
  length(c, out, product(c, kept, "out"), "shape with the reduced axes set to 1");
  distinct(c, out, x);
  spur::reduce(op, x.data, shape.data(), maskArr, static_cast<int>(shape.size()), out.data);
}

void StridedCopy(const Napi::CallbackInfo& info) {
  Call c{info, "stridedCopy"};
  c.argc(5);
  const int64_t offset = integer(c, 1, "offset", 0);
  const auto strides = intList(c, 2, "strides", -kMaxCount);
  const auto shape = intList(c, 3, "shape", 0);
  F32 x = f32(c, 0, "x"), out = f32(c, 4, "out");
  if (strides.size() != shape.size()) c.rangeError("strides and shape must have the same length");
  length(c, out, product(c, shape, "out"), "shape");
  if (stridedBounds(c, "x", x.len, offset, strides, shape)) return;
  distinct(c, out, x);
  spur::stridedCopy(x.data + offset, strides.data(), shape.data(), static_cast<int>(shape.size()), out.data);
}

void StridedScatterAdd(const Napi::CallbackInfo& info) {
  Call c{info, "stridedScatterAdd"};
  c.argc(5);
  const auto shape = intList(c, 1, "shape", 0);
  const int64_t offset = integer(c, 2, "offset", 0);
  const auto strides = intList(c, 3, "strides", -kMaxCount);
  F32 x = f32(c, 0, "x"), out = f32(c, 4, "out");
  if (strides.size() != shape.size()) c.rangeError("strides and shape must have the same length");
  length(c, x, product(c, shape, "x"), "shape");
  if (stridedBounds(c, "out", out.len, offset, strides, shape)) return;
  distinct(c, out, x);
  spur::stridedScatterAdd(x.data, shape.data(), static_cast<int>(shape.size()), strides.data(), out.data + offset);
}

template <void (*Kernel)(const float*, int64_t, int64_t, float*)>
void RowwiseSoftmax(const Napi::CallbackInfo& info, const char* name) {
  Call c{info, name};
  c.argc(4);
  F32 x = f32(c, 0, "x");
  const int64_t rows = integer(c, 1, "rows", 1), cols = integer(c, 2, "cols", 1);
  F32 out = f32(c, 3, "out");
  length(c, x, product(c, {rows, cols}, "x"), "[rows, cols]");
  length(c, out, x.len, "[rows, cols]");
  sameOrDistinct(c, out, x);
  Kernel(x.data, rows, cols, out.data);
}
void Softmax(const Napi::CallbackInfo& info) { RowwiseSoftmax<spur::softmax>(info, "softmax"); }
void LogSoftmax(const Napi::CallbackInfo& info) { RowwiseSoftmax<spur::logSoftmax>(info, "logSoftmax"); }

void SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Call c{info, "softmaxCrossEntropy"};
  c.argc(6);
  F32 logits = f32(c, 0, "logits");
  I32 labels = i32(c, 1, "labels");
  const int64_t rows = integer(c, 2, "rows", 1), cols = integer(c, 3, "cols", 1);
  F32 loss = f32(c, 4, "loss"), probs = f32(c, 5, "probs");
  length(c, logits, product(c, {rows, cols}, "logits"), "[rows, cols]");
  length(c, labels, rows, "[rows]");
  length(c, loss, rows, "[rows]");
  length(c, probs, logits.len, "[rows, cols]");
  for (int64_t r = 0; r < rows; ++r)
    if (labels.data[r] < 0 || labels.data[r] >= cols)
      c.rangeError("labels[" + std::to_string(r) + "] = " + std::to_string(labels.data[r]) +
                   " is not a class index in [0, " + std::to_string(cols) + ")");
  sameOrDistinct(c, probs, logits);
  distinct(c, loss, logits);
  distinct(c, loss, probs);
  spur::softmaxCrossEntropy(logits.data, labels.data, rows, cols, loss.data, probs.data);
}


Napi::Value Threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), spur::poolThreads());
}

// setThreads(n): n >= 1 threads, or 0 for the default (SPURLAB_THREADS or all cores).
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Call c{info, "setThreads"};
  c.argc(1);
  const int64_t n = integer(c, 0, "n", 0);
  if (n > 256) c.rangeError("n must be at most 256");
  spur::setPoolThreads(static_cast<int>(n));
  return Napi::Number::New(info.Env(), spur::poolThreads());
}

Napi::Value Isa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), spur::isaName(spur::activeIsa()));
}

// setIsa("generic" | "avx2" | "avx512"): lowers the SIMD path (for tests); never above
// what the CPU supports. Returns the name of the path now in use.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Call c{info, "setIsa"};
  c.argc(1);
  const std::string name = string(c, 0, "isa");
  spur::Isa isa;
  if (!spur::parseIsa(name.c_str(), &isa)) c.rangeError("isa \"" + name + "\": expected generic, avx2 or avx512");
  return Napi::String::New(info.Env(), spur::isaName(spur::setIsa(isa)));
}

}  // namespace

void registerNnKernels(Napi::Env env, Napi::Object exports);

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  spur::keepFreedMemoryMapped();
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("linear", Napi::Function::New(env, Linear, "linear"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("affine", Napi::Function::New(env, Affine, "affine"));
  exports.Set("scaledSum", Napi::Function::New(env, ScaledSum, "scaledSum"));
  exports.Set("scaledSumOuter", Napi::Function::New(env, ScaledSumOuter, "scaledSumOuter"));
  exports.Set("clamp", Napi::Function::New(env, Clamp, "clamp"));
  exports.Set("clampBackward", Napi::Function::New(env, ClampBackward, "clampBackward"));
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("stridedCopy", Napi::Function::New(env, StridedCopy, "stridedCopy"));
  exports.Set("stridedScatterAdd", Napi::Function::New(env, StridedScatterAdd, "stridedScatterAdd"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("logSoftmax", Napi::Function::New(env, LogSoftmax, "logSoftmax"));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy, "softmaxCrossEntropy"));
  registerNnKernels(env, exports);
  exports.Set("threads", Napi::Function::New(env, Threads, "threads"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("isa", Napi::Function::New(env, Isa, "isa"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("detectedIsa", Napi::String::New(env, spur::isaName(spur::detectIsa())));
  return exports;
}

NODE_API_MODULE(spurlab, Init)
