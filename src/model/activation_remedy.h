// W4A4's remedies for outlier activation channels. Both are exact in float
// and are applied to a float model's matrices as they are quantized on load
// (ModelLoader), so they travel with the written file:
//  - smoothing (SmoothQuant-style): channel j of a matrix input is divided by
//    s_j and column j of the matrices reading it multiplied by s_j, with
//    s_j = (a_j / mean_j a)^kSmoothAlpha, a_j the RMS of channel j over the
//    calibration positions (the importance matrix: Σx² and the count). 1/s is
//    folded where the input is made, so nothing runs on the fly: into the
//    RMSNorm weight (Q/K/V, gate/up, the classifier), into V's rows for the
//    attention output (linear in V; s is shared by the query heads of one KV
//    head), into up's rows for ffn_down (the gated product is linear in up).
//    With channel means in the importance data (Σx, the imatrix's optional
//    in_sum), smoothing also shifts: s comes from each channel's RMS about
//    its mean, and the matrices reading the input subtract the smoothed
//    means before rounding it to integers and add W·mean back after the
//    product (PackedWeights::input_shift; the file carries the shifts as
//    kShiftKeyPrefix + tensor name keys): outlier channels often sit on a
//    constant offset, which the 4-bit steps then need not cover.
//  - rotation (QuaRot-style, quant/hadamard.h): every matrix that takes a
//    rotatable input is stored as W·H and matmul() rotates its inputs; the
//    file says so with kRotationKey (llama.cpp does not know the key and
//    would compute wrong logits from such a file).
// Only inputs of row length a multiple of 32 (those the integer kernels
// quantize) are smoothed or rotated; the token embedding is a lookup, so a
// classifier tied to it keeps its raw input.
#pragma once

#include <cstdint>
#include <vector>

#include "format/imatrix_gguf.h"
#include "model/architecture.h"
#include "model/llama_config.h"
#include "quant/hadamard.h"
#include "runtime/status.h"

namespace nibble {

// GGUF metadata key (u32): the block size its matrices' inputs are rotated
// by (32); absent in unrotated files.
inline constexpr const char* kRotationKey = "nibble.rotated_inputs";
// GGUF metadata key (bool): the file's matrices were smoothed (folded into
// the weights, so it changes nothing at run time: it only says so).
inline constexpr const char* kSmoothingKey = "nibble.smoothed_inputs";
// GGUF metadata key prefix (f32 array, + the matrix's tensor name): the
// shift of that matrix's input (PackedWeights::input_shift).
inline constexpr const char* kShiftKeyPrefix = "nibble.input_shift.";
// GGUF metadata key prefix (f32 array of r·K, + the matrix's tensor name):
// the low-rank basis of that matrix's input (PackedWeights::input_basis).
inline constexpr const char* kBasisKeyPrefix = "nibble.input_basis.";
// The most directions a file's input basis may hold.
inline constexpr int kMaxBasisRank = 64;

struct ActivationRemedy {
  bool smooth = false;  // needs importance data
  bool rotate = false;
  bool any() const { return smooth || rotate; }
};

// Whether the matrix in `slot` with rows of K values takes its input rotated
// in a rotated file.
bool takes_rotated_input(TensorSlot slot, int64_t K, bool tied_output);

// The remedy of one model: its smoothing factors by input, from the
// importance data.
class RemedyPlan {
 public:
  // Fails on an architecture the smoothing folds do not cover (fused Q/K/V
  // or gate/up, Q/K/V biases) or smoothing without importance data.
  static Status Create(const ActivationRemedy& remedy, const ImportanceMatrix* importance, const Architecture& arch,
                       const LlamaConfig& config, bool tied_output, RemedyPlan* out);

  // W[N,K] (float, row-major) of `slot` in `layer`, in place, before it is
  // quantized: columns × s of its input, rows × 1/s of the input it makes
  // (V, up), then each row rotated per block.
  void apply_to_matrix(TensorSlot slot, int layer, int64_t N, int64_t K, float* w) const;
  // A norm weight v[n] in place: × 1/s of the input it makes.
  void apply_to_vector(TensorSlot slot, int layer, int64_t n, float* v) const;
  // An importance matrix's column weights importance[K] (Σx² of each input
  // channel) for the smoothed matrix in `slot`, in place: smoothing divides
  // channel j by s_j, so its Σx² by s_j². (A rotated input has no such
  // weights: its columns mix the channels, whose covariances the
  // importance data does not hold.)
  void smooth_importance(TensorSlot slot, int layer, int64_t K, float* importance) const;
  // The shift of the input of the matrix in `slot` (PackedWeights::
  // input_shift: the input's channel means after smoothing), or empty.
  const std::vector<float>& input_shift(TensorSlot slot, int layer) const;

 private:
  enum Input { kAttnIn, kAttnOut, kFfnIn, kFfnDownIn, kInputsPerLayer, kClassifierInput = -2, kNoInput = -1 };
  static int input_of(TensorSlot slot);
  const std::vector<float>& of_input(const std::vector<std::vector<float>>& by_input,
                                     const std::vector<float>& classifier, TensorSlot slot, int layer) const;
  const std::vector<float>& factors(int layer, Input input) const;  // empty: not smoothed
  const std::vector<float>& input_factors(TensorSlot slot, int layer) const;  // s of the matrix's input

  ActivationRemedy remedy_;
  bool tied_output_ = false;
  int group_ = 1, head_dim_ = 0;  // query heads per KV head, for V's rows
  std::vector<std::vector<float>> by_input_;  // [layer · kInputsPerLayer + input]
  std::vector<float> classifier_;             // the classifier's input
  std::vector<std::vector<float>> shifts_;    // as by_input_; empty without channel means
  std::vector<float> classifier_shift_;
  std::vector<float> none_;                   // no smoothing
};

}  // namespace nibble
