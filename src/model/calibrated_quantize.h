// Output-aware quantization of a whole model (`nibble quantize --method
// gptq`, JS quantizeCalibrated()): every matrix is quantized with GPTQ
// (quant/gptq.h) against the second moments H = Σ x·xᵀ of its inputs on
// calibration windows, layer after layer: the inputs of layer l's matrices
// are collected with layers 0..l−1 already quantized (and token_embd too), so
// each layer also corrects the error the layers before it left in its
// inputs. Stages: one per layer, then the classifier; each stage runs every
// calibration window through the model once.
//
// token_embd is a lookup, not a product (no input to weigh): unless it is
// the classifier too (tied), it gets the clipping search (ClipMode::kMse).
// Matrices whose row length the type's blocks cannot tile stay F32, as
// fallback_type() says. The result is a standard GGUF file.
//
// Order of calls: add_window() for each calibration window; then step()
// until done() (each step runs one window of one stage; the first and last
// window of a stage also set it up and quantize its matrices); then
// write_gguf(). Memory: the model's f32 matrices twice (the source
// and the stage's forward copy), the quantized blocks, and one stage's H.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/model.h"
#include "runtime/status.h"

namespace nibble {

class ThreadPool;

class CalibratedQuantizer {
 public:
  // model: loaded with F32 matrices, outlives this. type: gptq_supports().
  CalibratedQuantizer(Model* model, TensorType type);
  ~CalibratedQuantizer();
  // Fails if the model's matrices are not F32 or the type is not supported.
  Status check() const;

  // One calibration window ids[n] (BOS first), kept until the end.
  Status add_window(const int32_t* ids, int n);
  int windows() const { return int(windows_.size()); }
  int stages() const;  // layers + 1
  int stage() const { return stage_; }
  bool done() const { return stage_ == stages(); }

  Status step(ThreadPool* pool);
  // Steps done / all steps (stages × windows), in [0, 1].
  double progress() const;

  // The quantized model as a GGUF v3 file (its metadata and tokenizer those
  // of the source model).
  Status write_gguf(std::vector<uint8_t>* out);

 private:
  struct Matrix;
  class Collector;
  Status quantize_matrix_of(Matrix& m, const std::vector<double>* hessian, ThreadPool* pool);
  Status build_weights(LlamaWeights* out, bool final_types) const;
  Status begin_stage();
  Status end_stage(ThreadPool* pool);

  Model* model_;
  TensorType type_;
  std::vector<std::vector<int32_t>> windows_;
  std::vector<Matrix> matrices_;
  int stage_ = 0;
  int window_ = 0;  // the next window of the stage
  bool in_stage_ = false;
  std::unique_ptr<LlamaModel> forward_;  // the stage's model: done matrices as their dequantized values
  std::unique_ptr<Collector> collector_;
};

}  // namespace nibble
