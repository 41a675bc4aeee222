// Reading the committed test fixtures (models/, tests/...) by path relative
// to the repository (NIBBLE_SOURCE_DIR, set by CMake for every test).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "format/file_bytes.h"

namespace nibble {

inline std::vector<uint8_t> read_fixture(const std::string& relative) {
  std::vector<uint8_t> bytes;
  const Status s = read_file_bytes(std::string(NIBBLE_SOURCE_DIR) + "/" + relative, &bytes);
  EXPECT_TRUE(s.ok()) << s.message();
  return bytes;
}

}  // namespace nibble
