// Y[M,N] = X[M,K] · W[N,K]ᵀ in 4×4 tiles, all f32, any K (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/f32_scalar.h"

namespace nibble {

void f32_f32_gemm_4x4__scalar(const F32Weights& w, const F32Activations& x, const OutputTile& out) {
  scalar::f32_tiles(w, x, out, 4);
}

}  // namespace nibble
