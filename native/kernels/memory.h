// Process-wide allocator settings for a process that allocates tensors op by op.
#pragma once

namespace spur {

// Keeps freed tensor memory mapped for reuse instead of handing it back to the OS (see
// memory.cc); a no-op off glibc or when the user set glibc's MALLOC_* variables.
void keepFreedMemoryMapped();

}  // namespace spur
