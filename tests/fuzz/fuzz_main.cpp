// libFuzzer entry for one target: built once per target with
// -DNIBBLE_FUZZ_TARGET=<function of fuzz_targets.h>. Whether the input was
// accepted does not matter to libFuzzer.
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nibble::fuzz::NIBBLE_FUZZ_TARGET(data, size);
  return 0;
}
