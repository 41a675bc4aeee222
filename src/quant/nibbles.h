// Packing 32 four-bit codes into a block's qs[16] in GGUF's order: byte j
// holds code j in its low nibble and code j + 16 in its high nibble (Q5:
// plus a fifth bit per code in qh).
#pragma once

#include <cstdint>

#include "quant/block_formats.h"

namespace nibble {

// codes[32] (each 0..15) -> qs[16]
inline void pack_nibbles(const uint8_t* codes, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = uint8_t(codes[j] | (codes[j + kQK / 2] << 4));
}

// qs[16] -> codes[32] (each 0..15)
inline void unpack_nibbles(const uint8_t* qs, uint8_t* codes) {
  for (int j = 0; j < kQK / 2; ++j) {
    codes[j] = qs[j] & 0x0f;
    codes[j + kQK / 2] = qs[j] >> 4;
  }
}

// codes[32] (each 0..31) -> a Q5 block's qs[16] (low nibbles as Q4_0) and
// qh[4] (bit j: code j's bit 4, little-endian).
inline void pack_q5_codes(const uint8_t* codes, uint8_t* qs, uint8_t* qh) {
  uint8_t low[kQK];
  uint32_t high = 0;
  for (int j = 0; j < kQK; ++j) {
    low[j] = codes[j] & 0x0F;
    high |= uint32_t(codes[j] >> 4) << j;
  }
  pack_nibbles(low, qs);
  for (int i = 0; i < 4; ++i) qh[i] = uint8_t(high >> (8 * i));
}

}  // namespace nibble
