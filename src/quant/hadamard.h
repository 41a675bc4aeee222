// The orthonormal Hadamard rotation of W4A4's QuaRot-style remedy: H is
// block-diagonal, one normalized 32×32 Walsh–Hadamard matrix per 32-block
// (H = Hᵀ = H⁻¹). A matrix W[N,K] stored as W·H (each row rotated per block,
// at quantize time) gives the same product on inputs rotated per block at run
// time: (W·H)·(H·x) = W·x. The rotation spreads a block's outlier channels
// over all 32 values, so 4-bit activation steps fit them better.
#pragma once

#include <cstdint>

namespace nibble {

constexpr int kRotationBlock = 32;

// x[K] ← H·x per 32-block, in place (fast Walsh–Hadamard transform: 5
// butterfly stages, then × 1/√32). K must be a multiple of 32.
void hadamard_rotate_blocks(float* x, int64_t K);

}  // namespace nibble
