// Public face of the matmul kernels: the only header model code and src/api
// include. Model code never names a kernel; kernel_config() picks them.
//
//   GEMV (M = 1):  y[N]    = W[N,K] · x[K]
//   GEMM (M > 1):  Y[M,N]  = X[M,K] · W[N,K]ᵀ
//
// W is of a type whose tensor-type table row names a kernel family (F32,
// Q4_0, Q4_1), repacked once (PackedWeights) into the layout the kernels
// want; the layouts are documented in packed_weights.h. For the block types
// K must be a multiple of the block size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/packed_weights.h"
#include "quant/block_formats.h"
#include "runtime/status.h"

namespace nibble {

class ThreadPool;

// How activations meet INT4 weights.
enum class Precision {
  kW4A8,   // activations quantized per 32-block to int8 (Q8_0) on the fly,
           // integer dot products; the default, fastest.
  kW4A32,  // nibbles widened to f32, f32 accumulation; the accuracy reference.
  kW4A4,   // activations quantized per 32-block to signed 4-bit (a scale per
           // block), then the W4A8 integer dots; F32 weights, and types
           // without W4A8 kernels, ignore it as they ignore kW4A8.
};

// The code the API layers pass for a precision: 0 w4a8, 1 w4a32, 2 w4a4.
Status precision_from_code(int32_t code, Precision* out);

class PackedWeights;  // packed_weights.h
struct KernelConfig;  // config.h

// Y[M,N] = X[M,K] · Wᵀ with the kernels of kernel_config(). x is M×K
// row-major, y is M×N row-major. F32 weights ignore `precision`.
// pool may be null (single thread).
Status matmul(const PackedWeights& w, const float* x, int64_t M, float* y,
              Precision precision, ThreadPool* pool = nullptr);

// Several products of one input: targets[i].y[M, N_i] = X[M,K] · W_iᵀ, all
// W_i with the same K (a layer's Q, K and V; gate and up). The activations
// are prepared once and every matrix's tiles share one parallel pass, so
// small matrices split across threads too. Each output is bitwise what
// matmul() gives for that matrix alone.
struct MatmulTarget {
  const PackedWeights* w;
  float* y;
};
Status matmul_shared_input(const MatmulTarget* targets, int count, const float* x, int64_t M,
                           Precision precision, ThreadPool* pool = nullptr);

// Gives w the input shift shift[K] (PackedWeights::input_shift; not owned:
// it must outlive w; give the matrices sharing an input the same pointer)
// and computes its correction W·shift from the packed weights (f32
// activations).
Status set_input_shift(InputShift shift, PackedWeights* w);

// One input row x[K] of w as its integer kernels take it, in place: minus
// w's input shift (when `shift` and w has one), then rotated per block when
// w takes rotated inputs (PackedWeights::input_shift, rotated_input).
void prepare_input_row(const PackedWeights& w, bool shift, float* row);

// Gives w the low-rank input basis basis[r·K] (PackedWeights::input_basis:
// r orthonormal rows, in the shifted and rotated input; not owned, shared
// like a shift) and computes its correction (W·uₖ for each direction, from
// the packed weights, f32 activations). A size that is not a multiple of K
// is an error; the values must be finite.
Status set_input_basis(InputBasis basis, PackedWeights* w);

// The same with the kernels of an explicit tier (tests, benchmarks); see
// kernel_config_for() in config.h.
Status matmul_with(const KernelConfig& config, const PackedWeights& w, const float* x, int64_t M,
                   float* y, Precision precision, ThreadPool* pool = nullptr);
Status matmul_shared_input_with(const KernelConfig& config, const MatmulTarget* targets, int count,
                                const float* x, int64_t M, Precision precision, ThreadPool* pool = nullptr);

}  // namespace nibble
