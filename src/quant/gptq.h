// Output-aware quantization (GPTQ, Frantar et al. 2022): quantizes W[N,K]
// to minimize the output error Σ_x ‖W·x − Q(W)·x‖² over calibration inputs
// x, given only their second moments H = Σ x·xᵀ [K,K], instead of the weight
// error ‖W − Q(W)‖² that round-to-nearest minimizes.
//
// Each row is quantized column by column (in block order); the rounding
// error of column i is fed forward into the columns not yet quantized
// through the upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU):
//   e = (w_i − q_i) / U_ii,   w_j −= e · U_ij   for j > i,
// which keeps the output error of the columns to come as small as possible
// (the Optimal Brain Surgeon update). When a block starts, its scale is
// chosen by trying candidate scales, each with the in-block feedback, and
// keeping the one with the least Σ e² over the block (the output error it
// adds). The result is an ordinary block of the type: files stay standard.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "quant/block_formats.h"
#include "runtime/status.h"

namespace nibble {

class ThreadPool;

// The types quantize_matrix_gptq writes: a scale times a 4-bit code book
// (Q4_0: q − 8, IQ4_NL: kIQ4NLValues), 4.5 bits per weight.
bool gptq_supports(TensorType type);

// H⁻¹'s upper Cholesky factor for the update above, from H[K,K] (row-major,
// symmetric, Σ x·xᵀ): columns no input reached (H_ii = 0) get H_ii = 1, and
// `damp` · mean(diag H) is added to the diagonal (GPTQ's dampening, so that
// H is safely positive definite). *u [K,K] row-major, upper triangle set.
Status gptq_inverse_factor(const double* hessian, int64_t K, double damp, std::vector<double>* u);

// out[rows · row_size(type, cols)] <- w[rows, cols] (row-major f32) with
// the factor u of gptq_inverse_factor. hessian (H itself, [cols, cols]; may
// be null) adds a refinement: a descent on each row's output error
// (w − ŵ)ᵀ·H·(w − ŵ) that moves single codes one step and refits each
// block's scale, keeping only the changes that lower it. Fails, writing
// nothing, if the type is not supported, cols is not a multiple of its
// block, a weight is not finite, or out_size is too small. pool may be null
// (rows are independent).
Status quantize_matrix_gptq(TensorType type, const float* w, int64_t rows, int64_t cols, const double* hessian,
                            const std::vector<double>& u, void* out, size_t out_size,
                            ThreadPool* pool = nullptr);

}  // namespace nibble
