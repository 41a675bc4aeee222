// Reading a whole file into memory (native tools and tests; in wasm the file
// system is Emscripten's, e.g. NODERAWFS under Node).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace nibble {

// *out = every byte of the file at `path`; an error names the path.
Status read_file_bytes(const std::string& path, std::vector<uint8_t>* out);

}  // namespace nibble
