#include "runtime/fresh_pages.h"

#include <algorithm>

#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#include <malloc.h>
#endif

namespace nibble {

void touch_pages(uint8_t* begin, size_t size) {
  const uintptr_t end = reinterpret_cast<uintptr_t>(begin) + size;
  // The first byte, then the first byte of each page after its page.
  for (uintptr_t at = reinterpret_cast<uintptr_t>(begin); at < end; at = (at | (kFreshPageBytes - 1)) + 1)
    *reinterpret_cast<volatile uint8_t*>(at) = 0;
}

#ifdef __EMSCRIPTEN__
uintptr_t heap_break() { return *emscripten_get_sbrk_ptr(); }

uintptr_t grow_heap_for(uint64_t bytes) {
  const uint64_t reused = uint64_t(mallinfo().fordblks);  // free chunks and the top chunk below the break
  const uint64_t end = std::min<uint64_t>(heap_break() + (bytes > reused ? bytes - reused : 0), UINTPTR_MAX);
  if (end > emscripten_get_heap_size()) emscripten_resize_heap(size_t(end));  // on failure: the size it has
  return uintptr_t(std::min<uint64_t>(end, emscripten_get_heap_size()));
}
#else
uintptr_t heap_break() { return 0; }
uintptr_t grow_heap_for(uint64_t) { return 0; }
#endif

}  // namespace nibble
