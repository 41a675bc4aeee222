// y[N] = W[N,K] · x[K] per activation row, all f32, any K (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/f32_scalar.h"

namespace nibble {

void f32_f32_gemv__scalar(const F32Weights& w, const F32Activations& x, const OutputTile& out) {
  scalar::f32_tiles(w, x, out, 1);
}

}  // namespace nibble
