// Runtime CPU feature dispatch: the addon is compiled for baseline x86-64 and picks the
// widest SIMD path this machine supports when it loads.
#pragma once

namespace spur {

enum class Isa { Generic = 0, Avx2 = 1, Avx512 = 2 };

// The best ISA the CPU supports (cpuid), ignoring any override.
Isa detectIsa();
// The ISA the kernels use now; starts at detectIsa(), lowered by SPURLAB_ISA or setIsa().
Isa activeIsa();
// Selects an ISA no wider than the CPU supports; returns the one actually selected.
Isa setIsa(Isa wanted);
const char* isaName(Isa isa);
// Parses "generic" | "avx2" | "avx512"; returns false for anything else.
bool parseIsa(const char* name, Isa* out);

}  // namespace spur
