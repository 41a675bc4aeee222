// integer_text(value): an integer in decimal ("-42"), as std::to_string
// writes it. Without printf too: libc++'s std::to_string formats integers
// through vsnprintf, which was all that kept printf's integer core in the
// wasm module a page loads first.
//
// decimal_text(value, decimals): a number as text with a fixed count of
// decimals ("2.46", "-1.000000", "nan", "inf"), as printf's %.<decimals>f
// writes it but for ties (rounded away from zero here) and for magnitudes
// past 2^63 / 10^decimals (written as "1e+NN"), for messages. Without printf:
// the wasm module a page loads first leaves printf out (about 3 KB gzipped).
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

namespace nibble {

std::string signed_integer_text(int64_t value);
std::string unsigned_integer_text(uint64_t value);
template <typename T>
std::string integer_text(T value) {
  static_assert(std::is_integral<T>::value && !std::is_same<T, bool>::value, "integer_text takes an integer");
  if constexpr (std::is_signed<T>::value) return signed_integer_text(int64_t(value));
  else return unsigned_integer_text(uint64_t(value));
}

std::string decimal_text(double value, int decimals);

}  // namespace nibble
