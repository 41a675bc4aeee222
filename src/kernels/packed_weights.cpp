#include "kernels/packed_weights.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "kernels/k_panel.h"
#include "kernels/q4_panel.h"
#include "quant/fp16.h"

namespace nibble {
namespace {

constexpr size_t kAlignment = 64;

// Copies between one GGUF block (d, [m], qs) and row i of a panel.
// to_panel selects the direction; nibbles move through q4_nibble_slot().
template <typename Block, bool kHasMin>
void move_block(Block* block, uint8_t* panel, int i, bool to_panel) {
  float* d = reinterpret_cast<float*>(panel);
  float* m = d + kPackRows;  // Q4_1 only
  uint8_t* qs = panel + q4_qs_offset(kHasMin);
  if (to_panel) {
    d[i] = fp16_to_fp32(block->d);
    if constexpr (kHasMin) m[i] = fp16_to_fp32(block->m);
    for (int k = 0; k < kQK; ++k) {
      const int q = k < 16 ? (block->qs[k] & 15) : (block->qs[k - 16] >> 4);
      const NibbleSlot slot = q4_nibble_slot(i, k);
      qs[slot.byte] = uint8_t(qs[slot.byte] | (q << slot.shift));
    }
  } else {
    block->d = fp16_from_converted(d[i]);
    if constexpr (kHasMin) block->m = fp16_from_converted(m[i]);
    for (int j = 0; j < kQK / 2; ++j) {
      const NibbleSlot lo = q4_nibble_slot(i, j), hi = q4_nibble_slot(i, j + 16);
      block->qs[j] = uint8_t(((qs[lo.byte] >> lo.shift) & 15) | (((qs[hi.byte] >> hi.shift) & 15) << 4));
    }
  }
}

// Walks every (row, block) of a Q4 matrix, pairing its GGUF block with its
// panel slot; shared by Pack and unpack so the two stay exact inverses.
// Packing expects a zeroed buffer (nibbles are or'ed in).
template <typename Block, bool kHasMin>
void convert_q4(Block* gguf, uint8_t* packed, int64_t N, int64_t K, bool to_panel) {
  const int64_t nb = K / kQK, groups = (N + kPackRows - 1) / kPackRows;
  const size_t panel_bytes = q4_panel_bytes(q4_type(kHasMin));
  for (int64_t n = 0; n < N; ++n) {
    const int64_t g = n / kPackRows;
    const size_t step = size_t(q4_panel_step(groups, g)) * panel_bytes;
    uint8_t* panel = packed + size_t(q4_panel_index(groups, nb, g, 0)) * panel_bytes;
    for (int64_t b = 0; b < nb; ++b, panel += step)
      move_block<Block, kHasMin>(gguf + n * nb + b, panel, int(n % kPackRows), to_panel);
  }
}

// Between the GGUF rows and the packed buffer, either way: the one switch
// over kernel families, each with its layout (packed_weights.h). Packing
// expects a zeroed buffer.
void convert(TensorType type, void* gguf, uint8_t* packed, int64_t N, int64_t K, bool to_packed) {
  switch (tensor_type_info(type)->kernels) {
    case KernelFamily::kF32Rows: {
      const size_t bytes = size_t(N) * size_t(K) * sizeof(float);
      if (to_packed) std::memcpy(packed, gguf, bytes);
      else std::memcpy(gguf, packed, bytes);
      return;
    }
    case KernelFamily::kQ4Panels:
      if (type == TensorType::Q4_1) convert_q4<BlockQ4_1, true>(static_cast<BlockQ4_1*>(gguf), packed, N, K, to_packed);
      else convert_q4<BlockQ4_0, false>(static_cast<BlockQ4_0*>(gguf), packed, N, K, to_packed);
      return;
    case KernelFamily::kKPanels:
      convert_k_matrix(type, static_cast<uint8_t*>(gguf), packed, N, K, to_packed);
      return;
    case KernelFamily::kNone: break;  // Pack refuses such types
  }
}

}  // namespace

PackedWeights::~PackedWeights() { std::free(data_); }

PackedWeights::PackedWeights(PackedWeights&& other) noexcept { *this = std::move(other); }

PackedWeights& PackedWeights::operator=(PackedWeights&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    type_ = other.type_;
    N_ = other.N_;
    K_ = other.K_;
    bytes_ = other.bytes_;
    data_ = other.data_;
    other.data_ = nullptr;
    other.bytes_ = 0;
    other.N_ = other.K_ = 0;
  }
  return *this;
}

size_t PackedWeights::gguf_bytes() const {
  if (empty()) return 0;
  const TensorTypeInfo& info = *tensor_type_info(type_);
  return size_t(N_) * size_t(K_ / info.block_size) * info.block_bytes;
}

Status PackedWeights::Pack(TensorType type, const void* data, size_t bytes, int64_t N, int64_t K,
                           PackedWeights* out) {
  if (out == nullptr) return InvalidArgument("PackedWeights::Pack: output is null");
  const TensorTypeInfo* info = tensor_type_info(type);
  if (info == nullptr || !info->has_kernels())
    return InvalidArgument(std::string("PackedWeights::Pack: weight type ") + (info ? info->name : "unknown") +
                           " is not supported by the matmul kernels; use one of " +
                           tensor_type_names(&TensorTypeInfo::has_kernels, false));
  const char* type_name = info->name;
  if (N <= 0 || K <= 0)
    return OutOfRange("PackedWeights::Pack: matrix shape N = " + std::to_string(N) +
                      ", K = " + std::to_string(K) + " must have N > 0 and K > 0");
  if (K % info->block_size != 0)
    return InvalidArgument("PackedWeights::Pack: row length K = " + std::to_string(K) + " is not a multiple of " +
                           std::to_string(info->block_size) + ", which " + type_name +
                           " needs; pad K or keep this matrix in f32");
  if (data == nullptr) return InvalidArgument("PackedWeights::Pack: data is null");

  // Sizes in 64-bit first: size_t is 32 bits in wasm32.
  const uint64_t kMax = uint64_t(SIZE_MAX) / 2;
  const uint64_t row_bytes = uint64_t(K / info->block_size) * info->block_bytes;
  if (uint64_t(K) > kMax || uint64_t(N) > kMax / row_bytes)
    return ResourceError("PackedWeights::Pack: a " + std::to_string(N) + " x " + std::to_string(K) +
                         " " + type_name + " matrix does not fit in this address space");
  const uint64_t expected = uint64_t(N) * row_bytes;
  if (uint64_t(bytes) != expected)
    return InvalidArgument(std::string("PackedWeights::Pack: a ") + std::to_string(N) + " x " +
                           std::to_string(K) + " " + type_name + " matrix takes " +
                           std::to_string(expected) + " bytes, but " + std::to_string(bytes) +
                           " were given");

  uint64_t packed = expected;
  if (info->kernels == KernelFamily::kQ4Panels || info->kernels == KernelFamily::kKPanels) {
    const uint64_t groups = (uint64_t(N) + kPackRows - 1) / kPackRows;
    packed = info->kernels == KernelFamily::kQ4Panels ? groups * q4_panel_bytes(type) * uint64_t(K / kQK)
                                                      : groups * k_panel_bytes(type) * uint64_t(K / kQK_K);
    if (packed > kMax)
      return ResourceError("PackedWeights::Pack: the packed matrix needs " + std::to_string(packed) +
                           " bytes, more than this address space allows");
  }
  const size_t alloc = size_t((packed + kAlignment - 1) / kAlignment * kAlignment);
  void* memory = std::aligned_alloc(kAlignment, alloc);
  if (memory == nullptr)
    return ResourceError("PackedWeights::Pack: out of memory allocating " + std::to_string(alloc) +
                         " bytes for a " + std::to_string(N) + " x " + std::to_string(K) + " " +
                         type_name + " matrix");
  std::memset(memory, 0, alloc);  // padding rows and tail stay zero

  PackedWeights result;
  result.type_ = type;
  result.N_ = N;
  result.K_ = K;
  result.bytes_ = alloc;
  result.data_ = static_cast<uint8_t*>(memory);
  // The kernels never write to the GGUF side; the casts only share one walker.
  void* gguf = const_cast<void*>(data);
  convert(type, gguf, result.data_, N, K, /*to_packed=*/true);
  *out = std::move(result);
  return Status::Ok();
}

void PackedWeights::unpack_to_gguf(void* out) const {
  if (empty()) return;
  convert(type_, out, data_, N_, K_, /*to_packed=*/false);
}

}  // namespace nibble
