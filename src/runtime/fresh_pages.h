// Fresh pages: the first write to a page of memory costs a page fault, in a
// model load about as much as all its other work. A loader writes to the
// pages its model will fill while it waits for the file's next bytes, so
// that the faults are taken then rather than in the packing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nibble {

// The OS's page: a wasm memory's 64 KiB pages are mapped in 4 KiB pieces.
constexpr size_t kFreshPageBytes = 4096;

// Writes a zero into each page [begin, begin + size) reaches. Only for
// memory whose bytes nobody needs: zeros already, or to be overwritten.
void touch_pages(uint8_t* begin, size_t size);

// The wasm heap above malloc's break: memory malloc hands out next, which
// holds nothing. heap_break() is the break; grow_heap_for(bytes) grows the
// heap (in one step, if it can) for `bytes` more to be allocated, and
// returns the end of what they take above the break, malloc's free memory
// being reused first. Native builds have no such region: both return 0.
uintptr_t heap_break();
uintptr_t grow_heap_for(uint64_t bytes);

}  // namespace nibble
