// Calibration statistics of a model's matrix inputs, collected by
// observing forward passes. Importance matrices as llama-imatrix collects
// them: for every matrix of a model, Σx² of each input column over every
// position that passes through it, and the number of positions. The
// quantizers weight each column's error by its mean (quant/quantize_row.h,
// *_imatrix). And W4A4's low-rank directions (LowRankCollector, below).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "format/imatrix_gguf.h"
#include "model/model.h"
#include "runtime/status.h"

namespace nibble {

class ImportanceCollector : public ActivationObserver {
 public:
  explicit ImportanceCollector(const Model& model);
  void matmul_input(TensorSlot slot, int layer, const float* x, int rows, int cols) override;
  // One more window of the calibration text went through (chunk_count).
  void count_window() { ++windows_; }
  // What was seen so far, as the file's data; datasets and chunk_size are
  // the caller's to fill in.
  ImportanceMatrix matrix() const;

 private:
  struct Sums {
    std::vector<double> sums;        // [cols] Σx²
    std::vector<double> value_sums;  // [cols] Σx
    double count = 0;
  };
  const Model& model_;
  std::map<std::string, Sums> seen_;  // by tensor name
  uint32_t windows_ = 0;
};

// W4A4's low-rank remedy, the quantizing side: the directions each matrix
// input loses before it is rounded to 4 bits (PackedWeights::input_basis,
// kernels/matmul.h; the run-time side is there). After smoothing, shift and
// rotation an input's 32-blocks round about as well as Gaussian values can
// at 4 bits, so what is left to gain is taking more of the input's energy
// out before rounding, as the shift does with the channel means: its top r
// principal directions, whose coefficients then stay in float.
//
// LowRankCollector observes forward passes of the quantized (remedied)
// model over calibration text, summing Σz·zᵀ of every matrix input z as
// the integer kernels see it (x minus the matrix's shift, then rotated if
// the matrix takes rotated inputs); apply() gives each input's matrices its
// top r eigenvectors as their shared basis, so the written file carries
// them (kBasisKeyPrefix keys). Quality tooling (the tools module only):
// memory is K² doubles per distinct input.

// The eigen-decomposition of a symmetric a[n·n] (row-major; only its
// values are read), by cyclic Jacobi rotations: values[n] in decreasing
// order and vectors[n·n], row i the unit eigenvector of values[i].
void symmetric_eigen(const std::vector<double>& a, int n, std::vector<double>* values, std::vector<double>* vectors);

// The r eigenvectors of the largest eigenvalues of a symmetric positive
// semi-definite c[n·n] (rows of u[r·n], orthonormal, float): Jacobi for a
// small n, else orthogonal (subspace) iteration on a few more than r
// vectors and a Rayleigh–Ritz step (symmetric_eigen of the projection).
void top_eigenvectors(const std::vector<double>& c, int n, int r, std::vector<float>* u);

class LowRankCollector : public ActivationObserver {
 public:
  explicit LowRankCollector(const Model& model) : model_(model) {}
  void matmul_input(TensorSlot slot, int layer, const float* x, int rows, int cols) override;
  // Gives the matrices of *model (the one observed) their inputs' top
  // `rank` directions (1..kMaxBasisRank) as input bases. Only matrices the
  // integer kernels run (rows a multiple of 32, a type with W4A8/W4A4
  // kernels) get one. Fails when nothing was observed, or when the model's
  // matrices already hold bases.
  Status apply(int rank, Model* model) const;

 private:
  struct Sums {
    std::vector<double> zz;  // [K·K] Σ z·zᵀ, upper triangle
    double count = 0;
  };
  const Model& model_;
  std::map<std::pair<int, int>, Sums> seen_;  // by (layer, the input's first reader's slot)
};

// Takes every basis off the model's matrices (LowRankCollector::apply undone).
void remove_input_bases(Model* model);

}  // namespace nibble
