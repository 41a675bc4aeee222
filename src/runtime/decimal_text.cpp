#include "runtime/decimal_text.h"

#include <cstdint>

namespace nibble {

std::string unsigned_integer_text(uint64_t value) {
  char digits[20];  // 2^64 − 1 has 20; written from the end
  char* first = digits + sizeof digits;
  do {
    *--first = char('0' + value % 10);
    value /= 10;
  } while (value != 0);
  return std::string(first, digits + sizeof digits);
}

std::string signed_integer_text(int64_t value) {
  // The magnitude as unsigned: −INT64_MIN does not fit an int64_t.
  return value < 0 ? "-" + unsigned_integer_text(0 - uint64_t(value)) : unsigned_integer_text(uint64_t(value));
}

// No libm either: pow and log10 bring kilobytes of tables with them.
std::string decimal_text(double value, int decimals) {
  if (value != value) return "nan";
  const bool negative = value < 0 || (value == 0 && 1 / value < 0);
  const std::string sign = negative ? "-" : "";
  double magnitude = negative ? -value : value;
  if (magnitude > 1.7976931348623157e308) return sign + "inf";
  uint64_t whole = 1;  // 10^decimals
  for (int d = 0; d < decimals; ++d) whole *= 10;
  if (magnitude * double(whole) >= 9.2e18) {
    int exponent = 0;
    for (; magnitude >= 10; magnitude /= 10) ++exponent;
    return sign + "1e+" + integer_text(exponent);
  }
  const uint64_t units = uint64_t(magnitude * double(whole) + 0.5);  // in 10^-decimals
  std::string text = sign + integer_text(units / whole);
  if (decimals > 0) text += "." + integer_text(whole + units % whole).substr(1);  // leading zeros kept
  return text;
}

}  // namespace nibble
