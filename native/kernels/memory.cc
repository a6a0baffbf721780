#include "memory.h"

#include <cstdlib>
#include <initializer_list>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace spur {

// Every op allocates its output as a fresh zero-filled typed array and the garbage
// collector frees it a few ops later. glibc serves blocks above its mmap threshold with
// fresh mappings and trims the free top of its heap back to the OS, so these tensors
// keep coming back as new pages that fault in on first touch. On the benchmark VM (a
// microVM with free-page reporting) a fault costs ~4 us: 15-20 ms of system time in
// every 100 ms CNN002 training step. Serving blocks up to 32 MB (glibc's largest mmap
// threshold) from the heap and trimming only above 1 GB of free top keeps the freed
// pages mapped, so a new tensor reuses them (calloc then clears them in user space).
// The cost is resident memory: freed heap stays mapped up to 1 GB.
void keepFreedMemoryMapped() {
#if defined(__GLIBC__)
  for (const char* name : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"})
    if (std::getenv(name) != nullptr) return;  // the user's allocator settings win
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace spur
