// Argument unpacking for addon.cc: every check throws a JS TypeError or RangeError that
// names the kernel and the argument, so a bad call from TypeScript never reaches a kernel.
//
// Order matters. Reading an object's field or an array's element can run JS (a getter, a
// proxy trap), and that JS can detach or shrink any typed array of the call, freeing the
// memory behind a pointer already taken. So every kernel reads its scalar, object and
// list arguments first and takes typed-array pointers last; after the first pointer is
// taken (Call::pinned) a JS-running read throws instead of returning, so a kernel written
// in the wrong order fails its first test rather than reading freed memory. No JS runs
// between taking the pointers and the kernel's return.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace spurnapi {

// Largest dimension or element count accepted: keeps every index product far from
// int64 overflow and every flat index of an Int32Array argmax representable.
constexpr int64_t kMaxCount = (int64_t{1} << 31) - 1;
constexpr size_t kMaxRank = 16;

struct Call {
  const Napi::CallbackInfo& info;
  const char* kernel;
  // Set once a typed-array pointer has been taken; from then on no JS may run.
  mutable bool pinned = false;

  // Called before every read that can run JS.
  void beforeJs(const std::string& what) const {
    if (pinned)
      throw Napi::Error::New(info.Env(), std::string("native ") + kernel + ": internal error: " + what +
                                             " is read after a typed-array pointer was taken (addon bug)");
  }

  [[noreturn]] void typeError(const std::string& msg) const {
    throw Napi::TypeError::New(info.Env(), std::string("native ") + kernel + ": " + msg);
  }
  [[noreturn]] void rangeError(const std::string& msg) const {
    throw Napi::RangeError::New(info.Env(), std::string("native ") + kernel + ": " + msg);
  }
  void argc(size_t n) const {
    if (info.Length() != n)
      typeError("expected " + std::to_string(n) + " arguments, got " + std::to_string(info.Length()));
  }
};

// A typed array argument: its data and the byte range it covers, for aliasing checks.
template <class T>
struct Arr {
  T* data = nullptr;
  int64_t len = 0;
  const char* name = "";
  uintptr_t begin() const { return reinterpret_cast<uintptr_t>(data); }
  uintptr_t end() const { return begin() + static_cast<uintptr_t>(len) * sizeof(T); }
};
using F32 = Arr<float>;
using I32 = Arr<int32_t>;

template <class T>
Arr<T> typedArg(const Call& c, const Napi::Value& v, const char* name, napi_typedarray_type type,
                const char* typeName) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    c.typeError(std::string(name) + " must be a " + typeName);
  auto a = v.As<Napi::TypedArrayOf<T>>();
  // A transferred buffer (structuredClone/postMessage with transfer) reads as length 0 and
  // a null pointer; say what happened rather than report a length mismatch.
  if (a.ArrayBuffer().IsDetached()) c.typeError(std::string(name) + "'s ArrayBuffer is detached");
  c.pinned = true;
  Arr<T> r;
  r.data = a.Data();
  r.len = static_cast<int64_t>(a.ElementLength());
  r.name = name;
  return r;
}

inline F32 f32(const Call& c, size_t i, const char* name) {
  return typedArg<float>(c, c.info[i], name, napi_float32_array, "Float32Array");
}
// A Float32Array argument that may be null (an absent bias, a gradient not wanted): then
// an empty F32 that still carries the name.
inline F32 optionalF32(const Call& c, size_t i, const char* name) {
  if (c.info[i].IsNull()) {
    F32 a;
    a.name = name;
    return a;
  }
  return f32(c, i, name);
}
inline I32 i32(const Call& c, size_t i, const char* name) {
  return typedArg<int32_t>(c, c.info[i], name, napi_int32_array, "Int32Array");
}

inline double number(const Call& c, const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) c.typeError(name + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) c.rangeError(name + " must be finite, got " + std::to_string(d));
  return d;
}
inline double number(const Call& c, size_t i, const char* name) { return number(c, c.info[i], name); }

inline int64_t integer(const Call& c, const Napi::Value& v, const std::string& name, int64_t min) {
  const double d = number(c, v, name);
  if (d != std::floor(d) || d < static_cast<double>(min) || d > static_cast<double>(kMaxCount))
    c.rangeError(name + " must be an integer in [" + std::to_string(min) + ", 2^31), got " + std::to_string(d));
  return static_cast<int64_t>(d);
}
inline int64_t integer(const Call& c, size_t i, const char* name, int64_t min) {
  return integer(c, c.info[i], name, min);
}

inline bool boolean(const Call& c, const Napi::Value& v, const std::string& name) {
  if (!v.IsBoolean()) c.typeError(name + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}
inline bool boolean(const Call& c, size_t i, const char* name) { return boolean(c, c.info[i], name); }

inline std::string string(const Call& c, size_t i, const char* name) {
  if (!c.info[i].IsString()) c.typeError(std::string(name) + " must be a string");
  return c.info[i].As<Napi::String>().Utf8Value();
}

inline Napi::Object object(const Call& c, size_t i, const char* name) {
  c.beforeJs(name);
  if (!c.info[i].IsObject() || c.info[i].IsArray()) c.typeError(std::string(name) + " must be an object");
  return c.info[i].As<Napi::Object>();
}

inline Napi::Value field(const Call& c, const Napi::Object& o, const char* obj, const char* key) {
  c.beforeJs(std::string(obj) + "." + key);
  return o.Get(key);
}
inline int64_t intField(const Call& c, const Napi::Object& o, const char* obj, const char* key, int64_t min) {
  return integer(c, field(c, o, obj, key), std::string(obj) + "." + key, min);
}
inline double numField(const Call& c, const Napi::Object& o, const char* obj, const char* key) {
  return number(c, field(c, o, obj, key), std::string(obj) + "." + key);
}
inline bool boolField(const Call& c, const Napi::Object& o, const char* obj, const char* key) {
  return boolean(c, field(c, o, obj, key), std::string(obj) + "." + key);
}

// An array of integers >= min (strides may be negative: min = -kMaxCount).
inline std::vector<int64_t> intList(const Call& c, size_t i, const char* name, int64_t min) {
  c.beforeJs(name);
  if (!c.info[i].IsArray()) c.typeError(std::string(name) + " must be an array of integers");
  auto a = c.info[i].As<Napi::Array>();
  // The length is read once: an element's getter may lengthen the array.
  const uint32_t len = a.Length();
  if (len > kMaxRank) c.rangeError(std::string(name) + " has more than 16 dimensions");
  std::vector<int64_t> r(len);
  for (uint32_t k = 0; k < len; ++k)
    r[k] = integer(c, a.Get(k), std::string(name) + "[" + std::to_string(k) + "]", min);
  return r;
}

inline std::vector<bool> boolList(const Call& c, size_t i, const char* name) {
  c.beforeJs(name);
  if (!c.info[i].IsArray()) c.typeError(std::string(name) + " must be an array of booleans");
  auto a = c.info[i].As<Napi::Array>();
  const uint32_t len = a.Length();
  if (len > kMaxRank) c.rangeError(std::string(name) + " has more than 16 dimensions");
  std::vector<bool> r(len);
  for (uint32_t k = 0; k < len; ++k)
    r[k] = boolean(c, a.Get(k), std::string(name) + "[" + std::to_string(k) + "]");
  return r;
}

// The product of dims, rejecting counts above kMaxCount (which also rules out overflow).
inline int64_t product(const Call& c, std::initializer_list<int64_t> dims, const char* what) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d != 0 && p > kMaxCount / d) c.rangeError(std::string(what) + " has more than 2^31 elements");
    p *= d;
  }
  return p;
}
inline int64_t product(const Call& c, const std::vector<int64_t>& dims, const char* what) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d != 0 && p > kMaxCount / d) c.rangeError(std::string(what) + " has more than 2^31 elements");
    p *= d;
  }
  return p;
}

template <class T>
void length(const Call& c, const Arr<T>& a, int64_t expected, const char* shape) {
  if (a.len != expected)
    c.rangeError(std::string(a.name) + " has length " + std::to_string(a.len) + ", expected " +
                 std::to_string(expected) + " (" + shape + ")");
}

template <class A, class B>
bool overlaps(const A& a, const B& b) {
  return a.len > 0 && b.len > 0 && a.begin() < b.end() && b.begin() < a.end();
}

// out must not share memory with in.
template <class A, class B>
void distinct(const Call& c, const A& out, const B& in) {
  if (overlaps(out, in)) c.rangeError(std::string(out.name) + " overlaps " + in.name + " in memory");
}

// out may be exactly in (an elementwise kernel run in place) but not partly overlap it.
template <class A, class B>
void sameOrDistinct(const Call& c, const A& out, const B& in) {
  if (out.begin() == in.begin() && out.len == in.len) return;
  distinct(c, out, in);
}

// Checks that offset + sum(i_d * strides[d]) over shape stays in [0, len) and returns
// whether the view is empty.
inline bool stridedBounds(const Call& c, const char* name, int64_t len, int64_t offset,
                          const std::vector<int64_t>& strides, const std::vector<int64_t>& shape) {
  int64_t lo = offset, hi = offset;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return true;
    const double span = static_cast<double>(strides[d]) * static_cast<double>(shape[d] - 1);
    if (std::fabs(span) > 4.0 * kMaxCount) c.rangeError(std::string(name) + " strides reach too far");
    const int64_t s = strides[d] * (shape[d] - 1);
    if (s < 0) lo += s; else hi += s;
  }
  if (lo < 0 || hi >= len)
    c.rangeError(std::string(name) + " offset and strides reach elements [" + std::to_string(lo) + ", " +
                 std::to_string(hi) + "] outside its length " + std::to_string(len));
  return false;
}

}  // namespace spurnapi
