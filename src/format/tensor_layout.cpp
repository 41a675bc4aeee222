#include "format/tensor_layout.h"

#include <limits>

namespace nibble {

bool tensor_layout(uint32_t ggml_type, TensorLayout* out) {
  const TensorTypeInfo* info = tensor_type_info(static_cast<TensorType>(ggml_type));
  if (info == nullptr) return false;
  *out = {info->block_size, int64_t(info->block_bytes)};
  return true;
}

const char* ggml_type_name(uint32_t ggml_type) {
  // ggml's own numbering, every id it defines, whether nibble reads the type
  // or not: only for naming a type in an error message. The types nibble
  // supports are the rows of quant/tensor_types.def, not this list.
  // Indexed by ggml_type; null marks ids ggml retired or never used.
  static const char* const kNames[] = {
      "f32",     "f16",     "q4_0",    "q4_1",    nullptr,   nullptr,   "q5_0",   "q5_1",
      "q8_0",    "q8_1",    "q2_k",    "q3_k",    "q4_k",    "q5_k",    "q6_k",   "q8_k",
      "iq2_xxs", "iq2_xs",  "iq3_xxs", "iq1_s",   "iq4_nl",  "iq3_s",   "iq2_s",  "iq4_xs",
      "i8",      "i16",     "i32",     "i64",     "f64",     "iq1_m",   "bf16",   "q4_0_4_4",
      "q4_0_4_8", "q4_0_8_8", "tq1_0", "tq2_0",   "iq4_nl_4_4", "iq4_nl_4_8", "iq4_nl_8_8", "mxfp4",
  };
  if (ggml_type >= sizeof(kNames) / sizeof(kNames[0])) return nullptr;
  return kNames[ggml_type];
}

bool tensor_bytes(const TensorLayout& layout, const int64_t* shape, int n_dims, uint64_t* bytes) {
  if (n_dims < 1 || shape[0] <= 0 || shape[0] % layout.block_size != 0) return false;
  const uint64_t limit = uint64_t(std::numeric_limits<int64_t>::max());
  uint64_t total = uint64_t(shape[0] / layout.block_size) * uint64_t(layout.block_bytes);
  if (total / uint64_t(layout.block_bytes) != uint64_t(shape[0] / layout.block_size) || total > limit) {
    return false;
  }
  for (int d = 1; d < n_dims; ++d) {
    if (shape[d] <= 0) return false;
    if (total > limit / uint64_t(shape[d])) return false;
    total *= uint64_t(shape[d]);
  }
  *bytes = total;
  return true;
}

}  // namespace nibble
