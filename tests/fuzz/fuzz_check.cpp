// fuzz_check: the one way a fuzz target reports a broken promise.
#include <cstdio>
#include <cstdlib>

#include "fuzz_targets.h"

namespace nibble {
namespace fuzz {

void fuzz_check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_check failed: %s\n", what);
  std::abort();
}

}  // namespace fuzz
}  // namespace nibble
