// Lookups in the tensor-type table (block_formats.h): no quantizer code, so
// the format layer may use them.
#include <cctype>
#include <cstring>

#include "quant/block_formats.h"

namespace nibble {
namespace {

bool equal_ignoring_case(const char* a, const char* b) {
  for (; *a && *b; ++a, ++b) {
    if (std::tolower(static_cast<unsigned char>(*a)) != std::tolower(static_cast<unsigned char>(*b))) {
      return false;
    }
  }
  return *a == *b;
}

}  // namespace

const TensorTypeInfo* tensor_type_by_name(const char* name) {
  if (name == nullptr) return nullptr;
  for (const TensorTypeInfo& t : kTensorTypes) {
    if (equal_ignoring_case(t.name, name)) return &t;
  }
  return nullptr;
}

int64_t first_non_finite_scale(const TensorTypeInfo& type, const uint8_t* blocks, int64_t count) {
  // Whether block b has a scale with its exponent all ones (inf or NaN).
  const auto bad = [&](int64_t b) {
    const uint8_t* scales = blocks + size_t(b) * type.block_bytes + type.fp16_scales_offset;
    uint32_t any = 0;
    for (int s = 0; s < type.fp16_scales; ++s) {
      uint16_t h;
      std::memcpy(&h, scales + 2 * s, 2);
      any |= uint32_t((h & 0x7c00) == 0x7c00);
    }
    return any;
  };
  // A load checks every block of the file: 64 at a time without a branch
  // per block, then the one found again.
  for (int64_t start = 0; start < count; start += 64) {
    const int64_t end = count - start < 64 ? count : start + 64;
    uint32_t any = 0;
    for (int64_t b = start; b < end; ++b) any |= bad(b);
    if (any)
      for (int64_t b = start;; ++b)
        if (bad(b)) return b;
  }
  return -1;
}

std::string tensor_type_names(bool (TensorTypeInfo::*keep)() const, bool quoted) {
  std::string names;
  for (const TensorTypeInfo& t : kTensorTypes) {
    if (keep != nullptr && !(t.*keep)()) continue;
    if (!names.empty()) names += ", ";
    names += quoted ? std::string("'") + t.name + "'" : std::string(t.name);
  }
  return names;
}

}  // namespace nibble
