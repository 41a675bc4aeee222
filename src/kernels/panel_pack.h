// Packing at load, fast: PackedWeights::Pack() moves a matrix into its panels
// (layouts in packed_weights.h) one 4-row group and block at a time, with
// 16-byte vector shuffles whose byte maps are derived at compile time from
// the slot maps of q4_panel.h and k_panel.h. Every byte of every panel is
// written (a group's padding rows as zeros), so the buffer needs no zeroing
// first. The per-weight walk in packed_weights.cpp stays the definition:
// kernels_pack_test checks these bit for bit against it.
#pragma once

#include <cstdint>

#include "kernels/packed_weights.h"  // kPackRows
#include "quant/block_formats.h"

namespace nibble {

// Whether pack_panels_fast() handles `type`: the common types of the panel
// families (Q4_0, Q5_0, Q8_0, Q4_K, Q6_K); the others are packed per weight.
bool has_fast_pack(TensorType type);

// Row groups [first_group, end_group) of W[N,K] of `type` -> their panels
// in the buffer at packed (every byte of them written; the alignment tail
// past the last panel is the caller's). gguf: the GGUF rows from row
// kPackRows · first_group on. Returns whether every block scale packed (a
// block's first and last fp16 scale: first_non_finite_scale's) is finite.
bool pack_panels_fast(TensorType type, const uint8_t* gguf, uint8_t* packed, int64_t N, int64_t K,
                      int64_t first_group, int64_t end_group);

}  // namespace nibble
