// N-API glue for the network-layer kernels: convolution, pooling, batch norm and the
// optimizer updates (addon.cc has the rest and the module registration).
#include <napi.h>

#include "addon_args.h"
#include "kernels/batchnorm.h"
#include "kernels/conv.h"
#include "kernels/optim.h"
#include "kernels/pool.h"

using namespace spurnapi;

namespace {

// Output size of a sliding window over `in` padded by `pad` on both sides.
int64_t windows(int64_t in, int64_t k, int64_t stride, int64_t pad, bool ceilMode) {
  const int64_t span = in + 2 * pad - k;
  if (span < 0) return 0;
  return (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
}

spur::ConvGeom convGeom(const Call& c, size_t i) {
  const Napi::Object o = object(c, i, "g");
  spur::ConvGeom g;
  g.n = intField(c, o, "g", "n", 1); g.c = intField(c, o, "g", "c", 1);
  g.h = intField(c, o, "g", "h", 1); g.w = intField(c, o, "g", "w", 1);
  g.oc = intField(c, o, "g", "oc", 1); g.kh = intField(c, o, "g", "kh", 1); g.kw = intField(c, o, "g", "kw", 1);
  g.strideH = intField(c, o, "g", "strideH", 1); g.strideW = intField(c, o, "g", "strideW", 1);
  g.padH = intField(c, o, "g", "padH", 0); g.padW = intField(c, o, "g", "padW", 0);
  g.oh = intField(c, o, "g", "oh", 1); g.ow = intField(c, o, "g", "ow", 1);
  const int64_t oh = windows(g.h, g.kh, g.strideH, g.padH, false), ow = windows(g.w, g.kw, g.strideW, g.padW, false);
  if (g.oh != oh || g.ow != ow)
    c.rangeError("g.oh x g.ow is " + std::to_string(g.oh) + "x" + std::to_string(g.ow) + ", expected " +
                 std::to_string(oh) + "x" + std::to_string(ow) + " from the input, kernel, stride and padding");
  product(c, {g.n, g.c, g.h, g.w}, "x");
  product(c, {g.n, g.oc, g.oh, g.ow}, "out");
  product(c, {g.c, g.kh, g.kw, g.oh, g.ow}, "the column matrix");
  // the per-image buffers of native/kernels/conv.cc: padded input, padded dy, padded dx
  product(c, {g.c + 32, g.h + 2 * g.padH, g.w + 2 * g.padW}, "the padded input");
  product(c, {g.oc + 32, g.h + g.kh, g.w + g.kw}, "the padded dy");
  return g;
}

spur::PoolGeom poolGeom(const Call& c, size_t i, bool adaptive) {
  const Napi::Object o = object(c, i, "g");
  spur::PoolGeom g;
  g.n = intField(c, o, "g", "n", 1); g.c = intField(c, o, "g", "c", 1);
  g.h = intField(c, o, "g", "h", 1); g.w = intField(c, o, "g", "w", 1);
  g.oh = intField(c, o, "g", "oh", 1); g.ow = intField(c, o, "g", "ow", 1);
  product(c, {g.n, g.c, g.h, g.w}, "x");
  product(c, {g.n, g.c, g.oh, g.ow}, "out");
  if (adaptive) {  // the window follows from h/oh; kernel, stride and padding are ignored
    g.kh = g.kw = g.strideH = g.strideW = 1;
    g.padH = g.padW = 0;
    return g;
  }
  g.kh = intField(c, o, "g", "kh", 1); g.kw = intField(c, o, "g", "kw", 1);
  g.strideH = intField(c, o, "g", "strideH", 1); g.strideW = intField(c, o, "g", "strideW", 1);
  g.padH = intField(c, o, "g", "padH", 0); g.padW = intField(c, o, "g", "padW", 0);
  // floor or ceil mode: every window must start inside the padded input
  const int64_t ohMax = windows(g.h, g.kh, g.strideH, g.padH, true);
  const int64_t owMax = windows(g.w, g.kw, g.strideW, g.padW, true);
  if (g.oh > ohMax || g.ow > owMax || (g.oh - 1) * g.strideH >= g.h + g.padH || (g.ow - 1) * g.strideW >= g.w + g.padW)
    c.rangeError("g.oh x g.ow is " + std::to_string(g.oh) + "x" + std::to_string(g.ow) + ", at most " +
                 std::to_string(ohMax) + "x" + std::to_string(owMax) + " windows fit the padded input");
  return g;
}

void Conv2d(const Napi::CallbackInfo& info) {
  Call c{info, "conv2d"};
  c.argc(4);
  const spur::ConvGeom g = convGeom(c, 2);
  F32 x = f32(c, 0, "x"), w = f32(c, 1, "w"), out = f32(c, 3, "out");
  length(c, x, g.n * g.c * g.h * g.w, "[N, C, H, W]");
  length(c, w, product(c, {g.oc, g.c, g.kh, g.kw}, "w"), "[OC, C, KH, KW]");
  length(c, out, g.n * g.oc * g.oh * g.ow, "[N, OC, OH, OW]");
  distinct(c, out, x);
  distinct(c, out, w);
  spur::conv2d(x.data, w.data, nullptr, false, spur::Store::Add, g, out.data);
}

void Conv2dFused(const Napi::CallbackInfo& info) {
  Call c{info, "conv2dFused"};
  c.argc(6);
  const spur::ConvGeom g = convGeom(c, 3);
  const bool relu = boolean(c, 4, "relu");
  F32 x = f32(c, 0, "x"), w = f32(c, 1, "w");
  F32 bias = optionalF32(c, 2, "bias");
  F32 out = f32(c, 5, "out");
  length(c, x, g.n * g.c * g.h * g.w, "[N, C, H, W]");
  length(c, w, product(c, {g.oc, g.c, g.kh, g.kw}, "w"), "[OC, C, KH, KW]");
  if (bias.data != nullptr) length(c, bias, g.oc, "[OC]");
  length(c, out, g.n * g.oc * g.oh * g.ow, "[N, OC, OH, OW]");
  distinct(c, out, x);
  distinct(c, out, w);
  distinct(c, out, bias);
  spur::conv2d(x.data, w.data, bias.data, relu, spur::Store::Overwrite, g, out.data);
}

void Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  Call c{info, "conv2dBackwardInput"};
  c.argc(4);
  const spur::ConvGeom g = convGeom(c, 2);
  F32 dy = f32(c, 0, "dy"), w = f32(c, 1, "w"), dx = f32(c, 3, "dx");
  length(c, dy, g.n * g.oc * g.oh * g.ow, "[N, OC, OH, OW]");
  length(c, w, product(c, {g.oc, g.c, g.kh, g.kw}, "w"), "[OC, C, KH, KW]");
  length(c, dx, g.n * g.c * g.h * g.w, "[N, C, H, W]");
  distinct(c, dx, dy);
  distinct(c, dx, w);
  spur::conv2dBackwardInput(dy.data, w.data, g, spur::Store::Add, dx.data);
}

void Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  Call c{info, "conv2dBackwardWeight"};
  c.argc(4);
  const spur::ConvGeom g = convGeom(c, 2);
  F32 x = f32(c, 0, "x"), dy = f32(c, 1, "dy"), dw = f32(c, 3, "dw");
  length(c, x, g.n * g.c * g.h * g.w, "[N, C, H, W]");
  length(c, dy, g.n * g.oc * g.oh * g.ow, "[N, OC, OH, OW]");
  length(c, dw, product(c, {g.oc, g.c, g.kh, g.kw}, "dw"), "[OC, C, KH, KW]");
  distinct(c, dw, x);
  distinct(c, dw, dy);
  spur::conv2dBackwardWeight(x.data, dy.data, g, spur::Store::Add, dw.data);
}

void Conv2dFusedBackward(const Napi::CallbackInfo& info) {
  Call c{info, "conv2dFusedBackward"};
  c.argc(9);
  const spur::ConvGeom g = convGeom(c, 4);
  const bool relu = boolean(c, 5, "relu");
  F32 x = f32(c, 0, "x"), w = f32(c, 1, "w"), out = f32(c, 2, "out"), dy = f32(c, 3, "dy");
  F32 dx = optionalF32(c, 6, "dx"), dw = optionalF32(c, 7, "dw"), db = optionalF32(c, 8, "db");
  length(c, x, g.n * g.c * g.h * g.w, "[N, C, H, W]");
  length(c, w, product(c, {g.oc, g.c, g.kh, g.kw}, "w"), "[OC, C, KH, KW]");
  length(c, out, g.n * g.oc * g.oh * g.ow, "[N, OC, OH, OW]");
  length(c, dy, g.n * g.oc * g.oh * g.ow, "[N, OC, OH, OW]");
  if (dx.data != nullptr) length(c, dx, g.n * g.c * g.h * g.w, "[N, C, H, W]");
  if (dw.data != nullptr) length(c, dw, g.oc * g.c * g.kh * g.kw, "[OC, C, KH, KW]");
  if (db.data != nullptr) length(c, db, g.oc, "[OC]");
  for (const F32* grad : {&dx, &dw, &db}) {
    for (const F32* in : {&x, &w, &out, &dy}) distinct(c, *grad, *in);
  }
  distinct(c, dx, dw);
  distinct(c, dx, db);
  distinct(c, dw, db);
  spur::conv2dFusedBackward(x.data, w.data, out.data, dy.data, g, relu, dx.data, dw.data, db.data);
}

void MaxPool2d(const Napi::CallbackInfo& info) {
  Call c{info, "maxPool2d"};
  c.argc(4);
  const spur::PoolGeom g = poolGeom(c, 1, false);
  F32 x = f32(c, 0, "x"), out = f32(c, 2, "out");
  I32 argmax = i32(c, 3, "argmax");
  length(c, x, g.n * g.c * g.h * g.w, "[N, C, H, W]");
  length(c, out, g.n * g.c * g.oh * g.ow, "[N, C, OH, OW]");
  length(c, argmax, out.len, "[N, C, OH, OW]");
  distinct(c, out, x);
  distinct(c, argmax, x);
  distinct(c, argmax, out);
  spur::maxPool2d(x.data, g, out.data, argmax.data);
}

// Indices must address `into`; -1 (a window entirely in padding) is let through.
void checkIndices(const Call& c, const I32& index, int64_t intoLen, const char* into) {
  for (int64_t i = 0; i < index.len; ++i)
    if (index.data[i] < -1 || index.data[i] >= intoLen)
      c.rangeError(std::string(index.name) + "[" + std::to_string(i) + "] = " + std::to_string(index.data[i]) +
                   " is outside " + into + " (length " + std::to_string(intoLen) + ")");
}

void MaxPool2dBackward(const Napi::CallbackInfo& info) {
  Call c{info, "maxPool2dBackward"};
  c.argc(3);
  F32 dy = f32(c, 0, "dy");
  I32 argmax = i32(c, 1, "argmax");
  F32 dx = f32(c, 2, "dx");
  length(c, argmax, dy.len, "dy's length");
  checkIndices(c, argmax, dx.len, "dx");
  distinct(c, dx, dy);
  distinct(c, dx, argmax);
  spur::maxPool2dBackward(dy.data, argmax.data, dy.len, dx.data, dx.len);
}

void GatherIndex(const Napi::CallbackInfo& info) {
  Call c{info, "gatherIndex"};
  c.argc(3);
  F32 src = f32(c, 0, "g");
  I32 index = i32(c, 1, "index");
  F32 out = f32(c, 2, "out");
  length(c, out, index.len, "index's length");
  checkIndices(c, index, src.len, "g");
  distinct(c, out, src);
  distinct(c, out, index);
  spur::gatherIndex(src.data, index.data, index.len, out.data);
}

void AvgPool2d(const Napi::CallbackInfo& info) {
  Call c{info, "avgPool2d"};
  c.argc(4);
  const bool adaptive = boolean(c, 2, "adaptive");
  const spur::PoolGeom g = poolGeom(c, 1, adaptive);
  F32 x = f32(c, 0, "x"), out = f32(c, 3, "out");
  length(c, x, g.n * g.c * g.h * g.w, "[N, C, H, W]");
  length(c, out, g.n * g.c * g.oh * g.ow, "[N, C, OH, OW]");
  distinct(c, out, x);
  spur::avgPool2d(x.data, g, adaptive, out.data);
}

void AvgPool2dBackward(const Napi::CallbackInfo& info) {
  Call c{info, "avgPool2dBackward"};
  c.argc(4);
  const bool adaptive = boolean(c, 2, "adaptive");
  const spur::PoolGeom g = poolGeom(c, 1, adaptive);
  F32 dy = f32(c, 0, "dy"), dx = f32(c, 3, "dx");
  length(c, dy, g.n * g.c * g.oh * g.ow, "[N, C, OH, OW]");
  length(c, dx, g.n * g.c * g.h * g.w, "[N, C, H, W]");
  distinct(c, dx, dy);
  spur::avgPool2dBackward(dy.data, g, adaptive, dx.data);
}

void BatchNorm(const Napi::CallbackInfo& info) {
  Call c{info, "batchNorm"};
  c.argc(15);
  F32 x = f32(c, 0, "x"), gamma = f32(c, 1, "gamma"), beta = f32(c, 2, "beta");
  const int64_t n = integer(c, 3, "n", 1), ch = integer(c, 4, "c", 1), s = integer(c, 5, "s", 1);
  const bool training = boolean(c, 6, "training");
  const double momentum = number(c, 7, "momentum"), eps = number(c, 8, "eps");
  F32 runningMean = f32(c, 9, "runningMean"), runningVar = f32(c, 10, "runningVar");
  F32 out = f32(c, 11, "out"), saveMean = f32(c, 12, "saveMean"), saveInvStd = f32(c, 13, "saveInvStd");
  const bool relu = boolean(c, 14, "relu");
  if (eps < 0) c.rangeError("eps must be >= 0");
  length(c, x, product(c, {n, ch, s}, "x"), "[N, C, S]");
  length(c, out, x.len, "[N, C, S]");
  for (const F32* p : {&gamma, &beta, &runningMean, &runningVar, &saveMean, &saveInvStd}) length(c, *p, ch, "[C]");
  sameOrDistinct(c, out, x);
  const F32* outputs[] = {&out, &runningMean, &runningVar, &saveMean, &saveInvStd};
  const F32* all[] = {&x, &gamma, &beta, &runningMean, &runningVar, &out, &saveMean, &saveInvStd};
  for (const F32* o : outputs)
    for (const F32* a : all)
      if (o != a && !(o == &out && a == &x)) distinct(c, *o, *a);
  spur::batchNorm(x.data, gamma.data, beta.data, n, ch, s, training, momentum, eps, runningMean.data,
                  runningVar.data, out.data, saveMean.data, saveInvStd.data, relu);
}

void BatchNormBackward(const Napi::CallbackInfo& info) {
  Call c{info, "batchNormBackward"};
  c.argc(13);
  F32 x = f32(c, 0, "x"), dy = f32(c, 1, "dy"), gamma = f32(c, 2, "gamma");
  F32 saveMean = f32(c, 3, "saveMean"), saveInvStd = f32(c, 4, "saveInvStd");
  const int64_t n = integer(c, 5, "n", 1), ch = integer(c, 6, "c", 1), s = integer(c, 7, "s", 1);
  const bool training = boolean(c, 8, "training");
  F32 dx = f32(c, 9, "dx"), dgamma = f32(c, 10, "dgamma"), dbeta = f32(c, 11, "dbeta");
  F32 reluOut = optionalF32(c, 12, "reluOut");
  length(c, x, product(c, {n, ch, s}, "x"), "[N, C, S]");
  length(c, dy, x.len, "[N, C, S]");
  length(c, dx, x.len, "[N, C, S]");
  for (const F32* p : {&gamma, &saveMean, &saveInvStd, &dgamma, &dbeta}) length(c, *p, ch, "[C]");
  // dx is written element by element after the channel sums, so it may replace x or dy.
  sameOrDistinct(c, dx, x);
  sameOrDistinct(c, dx, dy);
  const bool masked = !info[12].IsNull();
  if (masked) {
    length(c, reluOut, x.len, "[N, C, S]");
    sameOrDistinct(c, dx, reluOut);  // read at each element just before it is written
    distinct(c, dgamma, reluOut);
    distinct(c, dbeta, reluOut);
  }
  for (const F32* a : {&gamma, &saveMean, &saveInvStd, &dgamma, &dbeta}) distinct(c, dx, *a);
  for (const F32* o : {&dgamma, &dbeta})
    for (const F32* a : {&x, &dy, &gamma, &saveMean, &saveInvStd, &dx})
      distinct(c, *o, *a);
  distinct(c, dgamma, dbeta);
  spur::batchNormBackward(x.data, dy.data, gamma.data, saveMean.data, saveInvStd.data, n, ch, s, training,
                          dx.data, dgamma.data, dbeta.data, masked ? reluOut.data : nullptr);
}

void AdamUpdate(const Napi::CallbackInfo& info) {
  Call c{info, "adamUpdate"};
  c.argc(5);
  const Napi::Object o = object(c, 4, "args");
  spur::AdamArgs a;
  a.lr = numField(c, o, "args", "lr");
  a.beta1 = numField(c, o, "args", "beta1");
  a.beta2 = numField(c, o, "args", "beta2");
  a.eps = numField(c, o, "args", "eps");
  a.weightDecay = numField(c, o, "args", "weightDecay");
  a.step = static_cast<double>(intField(c, o, "args", "step", 1));
  a.clip = numField(c, o, "args", "clip");
  F32 param = f32(c, 0, "param"), grad = f32(c, 1, "grad"), m = f32(c, 2, "m"), v = f32(c, 3, "v");
  for (const F32* p : {&grad, &m, &v}) length(c, *p, param.len, "param's length");
  const F32* all[] = {&param, &grad, &m, &v};
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j) distinct(c, *all[i], *all[j]);
  spur::adamUpdate(param.data, grad.data, m.data, v.data, param.len, a);
}

void SgdUpdate(const Napi::CallbackInfo& info) {
  Call c{info, "sgdUpdate"};
  c.argc(4);
  const Napi::Object o = object(c, 3, "args");
  spur::SgdArgs a;
  a.lr = numField(c, o, "args", "lr");
  a.momentum = numField(c, o, "args", "momentum");
  a.dampening = numField(c, o, "args", "dampening");
  a.weightDecay = numField(c, o, "args", "weightDecay");
  a.nesterov = boolField(c, o, "args", "nesterov");
  a.firstStep = boolField(c, o, "args", "firstStep");
  a.clip = numField(c, o, "args", "clip");
  F32 param = f32(c, 0, "param"), grad = f32(c, 1, "grad"), buf = f32(c, 2, "buf");
  length(c, grad, param.len, "param's length");
  distinct(c, param, grad);
  // Without momentum the buffer is never touched (the reference passes an empty one).
  if (a.momentum != 0) {
    length(c, buf, param.len, "param's length");
    distinct(c, buf, param);
    distinct(c, buf, grad);
  }
  spur::sgdUpdate(param.data, grad.data, buf.data, param.len, a);
}

}  // namespace

void registerNnKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d, "conv2d"));
  exports.Set("conv2dFused", Napi::Function::New(env, Conv2dFused, "conv2dFused"));
  exports.Set("conv2dBackwardInput", Napi::Function::New(env, Conv2dBackwardInput, "conv2dBackwardInput"));
  exports.Set("conv2dBackwardWeight", Napi::Function::New(env, Conv2dBackwardWeight, "conv2dBackwardWeight"));
  exports.Set("conv2dFusedBackward", Napi::Function::New(env, Conv2dFusedBackward, "conv2dFusedBackward"));
  exports.Set("maxPool2d", Napi::Function::New(env, MaxPool2d, "maxPool2d"));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward, "maxPool2dBackward"));
  exports.Set("gatherIndex", Napi::Function::New(env, GatherIndex, "gatherIndex"));
  exports.Set("avgPool2d", Napi::Function::New(env, AvgPool2d, "avgPool2d"));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, AvgPool2dBackward, "avgPool2dBackward"));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm, "batchNorm"));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward, "batchNormBackward"));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate, "adamUpdate"));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate, "sgdUpdate"));
}
