#include "format/file_bytes.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace nibble {

Status read_file_bytes(const std::string& path, std::vector<uint8_t>* out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return InvalidArgument("cannot open " + path + ": " + std::strerror(errno));
  out->clear();
  // Read in chunks: no reliance on fseek/ftell for the size (pipes, >2 GiB).
  uint8_t chunk[1 << 16];
  size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0) out->insert(out->end(), chunk, chunk + n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return ResourceError("error while reading " + path);
  return Status::Ok();
}

}  // namespace nibble
