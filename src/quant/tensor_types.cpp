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
  if (type.fp16_scales == 0) return -1;
  // A scale is inf or NaN when its exponent bits are all ones. Each block's
  // first and last fp16 scale are read (the same one when it has one) in a
  // loop of plain loads and bit operations: no call per block, which this
  // size-optimized code (-Oz) would otherwise make, and a branch that a load
  // never takes.
  const uint8_t* p = blocks + type.fp16_scales_offset;
  const size_t last = 2 * size_t(type.fp16_scales - 1), step = type.block_bytes;
  for (int64_t b = 0; b < count; ++b, p += step) {
    uint16_t first, second;
    std::memcpy(&first, p, 2);
    std::memcpy(&second, p + last, 2);
    if (((first & 0x7c00) == 0x7c00) | ((second & 0x7c00) == 0x7c00)) return b;
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
