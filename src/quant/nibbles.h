// Packing 32 four-bit codes into a block's qs[16] in GGUF's order: byte j
// holds code j in its low nibble and code j + 16 in its high nibble.
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

}  // namespace nibble
