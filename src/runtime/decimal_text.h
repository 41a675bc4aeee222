// decimal_text(value, decimals): a number as text with a fixed count of
// decimals ("2.46", "-1.000000", "nan", "inf"), as printf's %.<decimals>f
// writes it but for ties (rounded away from zero here) and for magnitudes
// past 2^63 / 10^decimals (written as "1e+NN"), for messages. Without printf:
// the wasm module a page loads first leaves printf out (about 3 KB gzipped).
#pragma once

#include <string>

namespace nibble {

std::string decimal_text(double value, int decimals);

}  // namespace nibble
