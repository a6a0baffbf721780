#include "cpu.h"

#include <cstdlib>
#include <cstring>

namespace spur {

Isa detectIsa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Generic;
}

bool parseIsa(const char* name, Isa* out) {
  if (std::strcmp(name, "generic") == 0) { *out = Isa::Generic; return true; }
  if (std::strcmp(name, "avx2") == 0) { *out = Isa::Avx2; return true; }
  if (std::strcmp(name, "avx512") == 0) { *out = Isa::Avx512; return true; }
  return false;
}

namespace {
Isa initialIsa() {
  Isa best = detectIsa();
  const char* env = std::getenv("SPURLAB_ISA");
  Isa wanted;
  // An override may only lower the ISA: asking for AVX-512 on an AVX2 machine would
  // execute illegal instructions.
  if (env != nullptr && parseIsa(env, &wanted) && wanted < best) return wanted;
  return best;
}
Isa gActive = initialIsa();
}  // namespace

Isa activeIsa() { return gActive; }

Isa setIsa(Isa wanted) {
  Isa best = detectIsa();
  gActive = wanted < best ? wanted : best;
  return gActive;
}

const char* isaName(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "AVX-512";
    case Isa::Avx2: return "AVX2+FMA";
    default: return "generic";
  }
}

}  // namespace spur
