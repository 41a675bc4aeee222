// IEEE binary16 <-> binary32 conversion in portable integer code (wasm has no
// half-precision instructions). fp32_to_fp16 rounds to nearest, ties to even,
// as llama.cpp's reference does, so scales come out byte-identical.
#pragma once

#include <cstdint>
#include <cstring>

namespace nibble {

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  if (exponent == 0) {
    // Zero or subnormal: mantissa · 2^-24, exact in f32.
    const float magnitude = float(mantissa) * (1.0f / 16777216.0f);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return f32_from_bits(sign | 0x7f800000u | (mantissa << 13));  // inf / NaN
  return f32_from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

inline uint16_t fp32_to_fp16(float f) {
  const uint32_t x = f32_bits(f);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  const uint32_t a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) return sign | (a > 0x7f800000u ? 0x7e00 : 0x7c00);  // NaN stays NaN
  if (a >= 0x477ff000u) return sign | 0x7c00;  // ≥ 65520 rounds to infinity
  if (a < 0x38800000u) {
    // Result is subnormal (or zero): round(|f| / 2^-24), ties to even.
    if (a <= 0x33000000u) return sign;  // ≤ 2^-25 rounds to zero
    const uint32_t mantissa = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - (a >> 23);  // 14..24
    uint32_t q = mantissa >> shift;
    const uint32_t rest = mantissa & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (q & 1))) ++q;
    return uint16_t(sign | q);
  }
  // Normal: rebias the exponent, keep 10 mantissa bits, round the other 13.
  uint32_t h = ((((a >> 23) - 112) << 10) | ((a & 0x7fffffu) >> 13));
  const uint32_t rest = a & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;  // a carry into the exponent is correct
  return uint16_t(sign | h);
}

// Inverse of fp16_to_fp32 for values it produced, exact for all 65536 codes
// (fp32_to_fp16 would canonicalize NaN payloads).
inline uint16_t fp16_from_converted(float f) {
  const uint32_t x = f32_bits(f);
  if ((x & 0x7f800000u) == 0x7f800000u)
    return uint16_t(((x >> 16) & 0x8000) | 0x7c00 | ((x & 0x7fffffu) >> 13));
  return fp32_to_fp16(f);
}

}  // namespace nibble
