#include "kernels/packed_weights.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "kernels/k_panel.h"
#include "kernels/matmul.h"
#include "kernels/panel_formats.h"
#include "kernels/panel_pack.h"
#include "kernels/q4_panel.h"
#include "quant/fp16.h"
#include "quant/hadamard.h"
#include "runtime/decimal_text.h"

namespace nibble {
namespace {

constexpr size_t kAlignment = 64;
constexpr uint64_t kMaxBytes = uint64_t(SIZE_MAX) / 2;  // the largest matrix this address space takes

// Copies between one GGUF block (d, [m], [qh], qs) and row i of a panel.
// to_panel selects the direction. Q4 and Q5 panels (kI8Panels false) take
// the nibbles through q4_nibble_slot() and Q5's codes through
// q5_slot(); IQ4_NL's nibbles go through lanes_nibble_slot() and
// Q8_0's bytes through i8_slot() (packed_weights.h).
template <typename Block, bool kHasMin, bool kHigh, bool kI8>
void move_block(Block* block, uint8_t* panel, int i, bool to_panel) {
  float* d = reinterpret_cast<float*>(panel);
  float* m = d + kPackRows;  // Q4_1, Q5_1 only
  uint8_t* qs = panel + (kI8 ? kI8QsOffset : q4_qs_offset(kHasMin));
  uint8_t* plane = panel + q5_high_offset(kHasMin);  // Q5 only
  constexpr bool kBytes = sizeof(block->qs) == kQK;  // Q8_0
  const auto slot = [i](int k) { return kI8 ? lanes_nibble_slot(i, k) : q4_nibble_slot(i, k); };
  if (to_panel) {
    d[i] = fp16_to_fp32(block->d);
    if constexpr (kHasMin) m[i] = fp16_to_fp32(block->m);
    for (int k = 0; k < kQK; ++k) {
      if constexpr (kBytes) {
        qs[i8_slot(i, k)] = uint8_t(block->qs[k]) ^ q8_byte_bias(k);
        continue;
      }
      const int q = k < 16 ? (block->qs[k] & 15) : (block->qs[k - 16] >> 4);
      const NibbleSlot to = slot(k);
      if constexpr (kHigh) write_q5_code(qs, plane, to, q | (((block->qh[k / 8] >> (k % 8)) & 1) << 4));
      else qs[to.byte] = uint8_t(qs[to.byte] | (q << to.shift));
    }
  } else {
    block->d = fp16_from_converted(d[i]);
    if constexpr (kHasMin) block->m = fp16_from_converted(m[i]);
    if constexpr (kBytes) {
      for (int k = 0; k < kQK; ++k) block->qs[k] = int8_t(qs[i8_slot(i, k)] ^ q8_byte_bias(k));
      return;
    }
    const auto code = [&](int k) {
      const NibbleSlot at = slot(k);
      return kHigh ? read_q5_code(qs, plane, at) : (qs[at.byte] >> at.shift) & 15;
    };
    for (int j = 0; j < kQK / 2; ++j) block->qs[j] = uint8_t((code(j) & 15) | ((code(j + 16) & 15) << 4));
    if constexpr (kHigh) {
      for (int k = 0; k < kQK; ++k)
        block->qh[k / 8] = uint8_t((block->qh[k / 8] & ~(1 << (k % 8))) | ((code(k) >> 4) << (k % 8)));
    }
  }
}

// Panel b of group g, gathered by i8_panel() from a run's region, back there.
void i8_store_panel(TensorType type, const uint8_t* panel, uint8_t* data, int64_t groups, int64_t nb, int64_t g, int64_t b) {
  const I8Run run = i8_run(type, groups, g);
  i8_copy_panel<false>(q4_panel_bytes(type), data + i8_region_offset(type, run, nb, b), run.size, int(g - run.first), panel);
}

// Walks every (row, block) of a panel-type matrix, pairing its GGUF block
// with its panel slot; shared by Pack and unpack so the two stay exact
// inverses. Packing expects a zeroed buffer (bits are or'ed in). Q4 and Q5
// panels follow q4_panel_index() (paired groups in relaxed-SIMD builds),
// kI8Panels i8_panel() (Q8_0's runs there: each panel gathered whole,
// and scattered back when packing).
template <typename Block, bool kHasMin, bool kHigh, bool kI8>
void convert_panels(TensorType type, void* gguf_bytes, uint8_t* packed, int64_t N, int64_t K, bool to_panel) {
  Block* gguf = static_cast<Block*>(gguf_bytes);
  const int64_t nb = K / kQK, groups = (N + kPackRows - 1) / kPackRows;
  const size_t panel_bytes = q4_panel_bytes(type);
  const PackedView view{packed, N, K};
  alignas(16) uint8_t buf[kMaxPanelBytes];
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* panel;
      if constexpr (kI8) {
        panel = const_cast<uint8_t*>(type == TensorType::Q8_0 ? i8_panel<TensorType::Q8_0>(view, g, b, buf)
                                                               : i8_panel<TensorType::IQ4_NL>(view, g, b, buf));
      } else {
        panel = packed + size_t(q4_panel_index(groups, nb, g, b)) * panel_bytes;
      }
      for (int64_t n = g * kPackRows; n < std::min(N, (g + 1) * kPackRows); ++n)
        move_block<Block, kHasMin, kHigh, kI8>(gguf + n * nb + b, panel, int(n % kPackRows), to_panel);
      if (kI8 && to_panel && panel == buf) i8_store_panel(type, buf, packed, groups, nb, g, b);
    }
  if (kHigh && to_panel)  // every panel whole now (q4_panel.h)
    for (int64_t i = 0; i < groups * nb; ++i) {
      uint8_t* panel = packed + size_t(i) * panel_bytes;
      q5_xor_panel(panel + q4_qs_offset(kHasMin), panel + q5_high_offset(kHasMin));
    }
}

// Between the GGUF rows and the packed buffer, either way: the one switch
// over kernel families, each with its layout (packed_weights.h). Packing
// expects a zeroed buffer.
void convert(TensorType type, void* gguf, uint8_t* packed, int64_t N, int64_t K, bool to_packed) {
  switch (tensor_type_info(type)->kernels) {
    case KernelFamily::kF32Rows:
    case KernelFamily::kNone: {  // GGUF's rows as they are
      const size_t bytes = size_t(N) * row_size(type, K);
      if (to_packed) std::memcpy(packed, gguf, bytes);
      else std::memcpy(gguf, packed, bytes);
      return;
    }
    case KernelFamily::kQ4Panels:
      if (type == TensorType::Q4_1) convert_panels<BlockQ4_1, true, false, false>(type, gguf, packed, N, K, to_packed);
      else convert_panels<BlockQ4_0, false, false, false>(type, gguf, packed, N, K, to_packed);
      return;
    case KernelFamily::kQ5Panels:
      if (type == TensorType::Q5_1) convert_panels<BlockQ5_1, true, true, false>(type, gguf, packed, N, K, to_packed);
      else convert_panels<BlockQ5_0, false, true, false>(type, gguf, packed, N, K, to_packed);
      return;
    case KernelFamily::kI8Panels:
      if (type == TensorType::Q8_0) convert_panels<BlockQ8_0, false, false, true>(type, gguf, packed, N, K, to_packed);
      else convert_panels<BlockIQ4_NL, false, false, true>(type, gguf, packed, N, K, to_packed);
      return;
    case KernelFamily::kKPanels:
      convert_k_matrix(type, static_cast<uint8_t*>(gguf), packed, N, K, to_packed);
      return;
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
    rotated_input_ = other.rotated_input_;
    input_shift_ = other.input_shift_;
    shift_correction_ = std::move(other.shift_correction_);
    other.input_shift_ = nullptr;
    input_basis_ = other.input_basis_;
    basis_correction_ = std::move(other.basis_correction_);
    other.input_basis_ = nullptr;
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

namespace {

// packed_bytes() before rounding up to the alignment.
uint64_t packed_bytes_unaligned(TensorType type, int64_t N, int64_t K) {
  const TensorTypeInfo* info = tensor_type_info(type);
  // F32 rows, and a type without kernels, keep their GGUF bytes; the panel
  // families take whole 4-row groups.
  uint64_t packed = uint64_t(N) * uint64_t(K / info->block_size) * info->block_bytes;
  if (info->kernels != KernelFamily::kF32Rows && info->kernels != KernelFamily::kNone) {
    const uint64_t groups = (uint64_t(N) + kPackRows - 1) / kPackRows;
    packed = info->kernels == KernelFamily::kKPanels ? groups * k_panel_bytes(type) * uint64_t(K / kQK_K)
                                                     : groups * q4_panel_bytes(type) * uint64_t(K / kQK);
  }
  return packed;
}

}  // namespace

uint64_t packed_bytes(TensorType type, int64_t N, int64_t K) {
  return (packed_bytes_unaligned(type, N, K) + kAlignment - 1) / kAlignment * kAlignment;
}

Status PackedWeights::CheckShape(TensorType type, int64_t N, int64_t K, uint64_t* gguf_bytes) {
  const TensorTypeInfo* info = tensor_type_info(type);
  if (info == nullptr) return InvalidArgument("PackedWeights::Pack: unknown weight type");
  const char* type_name = info->name;
  if (N <= 0 || K <= 0)
    return OutOfRange("PackedWeights::Pack: matrix shape N = " + integer_text(N) +
                      ", K = " + integer_text(K) + " must have N > 0 and K > 0");
  if (K % info->block_size != 0)
    return InvalidArgument("PackedWeights::Pack: row length K = " + integer_text(K) + " is not a multiple of " +
                           integer_text(info->block_size) + ", which " + type_name +
                           " needs; pad K or keep this matrix in f32");
  // Sizes in 64-bit first: size_t is 32 bits in wasm32.
  const uint64_t row_bytes = uint64_t(K / info->block_size) * info->block_bytes;
  if (uint64_t(K) > kMaxBytes || uint64_t(N) > kMaxBytes / row_bytes)
    return ResourceError("PackedWeights::Pack: a " + integer_text(N) + " x " + integer_text(K) +
                         " " + type_name + " matrix does not fit in this address space");
  *gguf_bytes = uint64_t(N) * row_bytes;
  return Status::Ok();
}

Status PackedWeights::Allocate(TensorType type, int64_t N, int64_t K, PackedWeights* result) {
  const uint64_t packed = packed_bytes(type, N, K);
  if (packed > kMaxBytes)
    return ResourceError("PackedWeights::Pack: the packed matrix needs " + integer_text(packed) +
                         " bytes, more than this address space allows");
  const size_t alloc = size_t(packed);
  void* memory = std::aligned_alloc(kAlignment, alloc);
  if (memory == nullptr)
    return ResourceError("PackedWeights::Pack: out of memory allocating " + integer_text(alloc) +
                         " bytes for a " + integer_text(N) + " x " + integer_text(K) + " " +
                         tensor_type_info(type)->name + " matrix");
  result->type_ = type;
  result->N_ = N;
  result->K_ = K;
  result->bytes_ = alloc;
  result->data_ = static_cast<uint8_t*>(memory);
  return Status::Ok();
}

Status PackedWeights::Pack(TensorType type, const void* data, size_t bytes, int64_t N, int64_t K,
                           PackedWeights* out, Method method) {
  if (out == nullptr) return InvalidArgument("PackedWeights::Pack: output is null");
  uint64_t expected = 0;
  NIBBLE_RETURN_IF_ERROR(CheckShape(type, N, K, &expected));
  if (data == nullptr) return InvalidArgument("PackedWeights::Pack: data is null");
  if (uint64_t(bytes) != expected)
    return InvalidArgument(std::string("PackedWeights::Pack: a ") + integer_text(N) + " x " +
                           integer_text(K) + " " + tensor_type_info(type)->name + " matrix takes " +
                           integer_text(expected) + " bytes, but " + integer_text(bytes) +
                           " were given");
  PackedWeights result;
  NIBBLE_RETURN_IF_ERROR(Allocate(type, N, K, &result));
  if (method == Method::kFast && has_fast_pack(type)) {
    result.zero_tail();
    pack_panels_fast(type, static_cast<const uint8_t*>(data), result.data_, N, K, 0, (N + kPackRows - 1) / kPackRows);
  } else {
    std::memset(result.data_, 0, result.bytes_);  // padding rows and tail stay zero: bits are or'ed in
    // The kernels never write to the GGUF side; the casts only share one walker.
    convert(type, const_cast<void*>(data), result.data_, N, K, /*to_packed=*/true);
  }
  *out = std::move(result);
  return Status::Ok();
}

bool PackedWeights::packs_in_pieces(TensorType type) { return has_fast_pack(type); }

Status PackedWeights::StartPacking(TensorType type, int64_t N, int64_t K, PackedWeights* out) {
  if (out == nullptr) return InvalidArgument("PackedWeights::Pack: output is null");
  if (!packs_in_pieces(type)) return InvalidArgument("PackedWeights::StartPacking: a type packed whole only");
  uint64_t expected = 0;
  NIBBLE_RETURN_IF_ERROR(CheckShape(type, N, K, &expected));
  PackedWeights result;
  NIBBLE_RETURN_IF_ERROR(Allocate(type, N, K, &result));
  result.zero_tail();
  *out = std::move(result);
  return Status::Ok();
}

bool PackedWeights::PackRows(int64_t first, const void* data, int64_t rows) {
  return pack_panels_fast(type_, static_cast<const uint8_t*>(data), data_, N_, K_, first / kPackRows,
                   (first + rows + kPackRows - 1) / kPackRows);
}

uint8_t* PackedWeights::unpacked_part(int64_t rows, size_t* size) {
  const int64_t groups = (N_ + kPackRows - 1) / kPackRows;
  const int64_t packed = (std::min(rows, N_) + kPackRows - 1) / kPackRows;
  // (Rounded up to a whole run of the widest interleaving, Q8_0's four.)
  const int64_t reached = std::min(groups, (packed + 3) / 4 * 4);
  const size_t written = size_t(packed_bytes_unaligned(type_, reached * kPackRows, K_));
  *size = bytes_ - written;
  return data_ + written;
}

// Every panel byte is written by the fast packing (padding rows as zeros):
// only the alignment tail needs zeroing. (Zeroing it all first cost a fifth
// of a load.)
void PackedWeights::zero_tail() {
  const size_t panels = size_t(packed_bytes_unaligned(type_, N_, K_));
  std::memset(data_ + panels, 0, bytes_ - panels);
}

void PackedWeights::unpack_to_gguf(void* out) const {
  if (empty()) return;
  convert(type_, out, data_, N_, K_, /*to_packed=*/false);
}

// ---------------------------------------------------------------------------
// Here, not in matmul.cpp: run once per matrix at load, so compiled for
// size (CMakeLists.txt) rather than speed.
Status set_input_basis(InputBasis basis, PackedWeights* w) {
  const int64_t K = w->cols(), N = w->rows();
  // (Finite values: the loader checks the file's; the collector makes its own.)
  if (basis == nullptr || basis->empty() || basis->size() % size_t(K) != 0)
    return InvalidArgument("a low-rank input basis needs r rows of " + integer_text(K) + " values");
  const int64_t r = int64_t(basis->size()) / K;
  // W·uₖ with the kernels' f32 path, which rotates inputs for a rotated
  // matrix: give it H·uₖ, since H·H = I (orthonormal and symmetric).
  std::vector<float> inputs(*basis), correction(size_t(r * N));  // [r, N]
  if (w->rotated_input())
    for (int64_t k = 0; k < r; ++k) hadamard_rotate_blocks(inputs.data() + k * K, K);
  NIBBLE_RETURN_IF_ERROR(matmul(*w, inputs.data(), r, correction.data(), Precision::kW4A32));  // (f32: no basis)
  w->set_input_basis(basis, std::move(correction));
  return Status::Ok();
}

}  // namespace nibble
