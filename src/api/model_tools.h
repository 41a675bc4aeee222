// ModelTools: the quantize-only operations on a loaded TextModel, the C++
// handle behind collectImportance() and quantizeCalibrated()
// (web/src/importance.mjs, calibrated.mjs). Apart from TextModel so that the
// wasm module a page loads first can leave them out: bindings/ declares
// them in the tools module only (bindings/tools_bindings.cpp; web/ loads it
// on first use), with the loader's importance and remedy options. Like
// TextModel, checks and bookkeeping only.
//
// Order of calls, each family any number of times:
//   collect_importance() per calibration window -> write_importance();
//   calibrate_begin(type) -> calibrate_window() per window -> calibrate_step()
//   until calibrate_progress() is 1 -> calibrate_write();
//   low_rank_window() per window -> low_rank_write(r).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/quantized_matrix.h"  // ApiStatus
#include "api/result_buffer.h"
#include "api/text_model.h"
#include "model/calibrated_quantize.h"
#include "model/importance.h"

namespace nibble {

// The loader's options for quantizing with calibration data
// (TextModelLoader::set_importance and set_remedy), bound in the tools module
// only: web/ loads a model given them there.
ApiStatus loader_set_importance(TextModelLoader& loader, uintptr_t data, uint32_t n);
ApiStatus loader_set_remedy(TextModelLoader& loader, int32_t code);

class ModelTools : public ResultBuffer {
 public:
  // `model` is borrowed: web/ deletes this handle before the model's.
  explicit ModelTools(TextModel& model) : text_(model) {}

  // Importance matrix: collect_importance() runs ids[n] (int32 at `ids`,
  // one calibration window, BOS first) from an empty cache and adds Σx² of
  // every matrix input to the sums kept here; write_importance() puts them
  // as llama.cpp's imatrix GGUF file in the result buffer (dataset:
  // imatrix.datasets; chunk_size: the window length); clear_importance()
  // starts over.
  ApiStatus collect_importance(uintptr_t ids, uint32_t n);
  ApiStatus write_importance(const std::string& dataset, int32_t chunk_size);
  void clear_importance() { importance_.reset(); }

  // Calibrated (output-aware) quantization, model/calibrated_quantize.h, of
  // a model loaded with f32 weights: calibrate_begin(type) ("q4_0",
  // "iq4_nl"), calibrate_window() for each window (ids[n], BOS first), then
  // calibrate_step() until calibrate_progress() is 1; calibrate_write() puts
  // the quantized GGUF file in the result buffer and ends it.
  ApiStatus calibrate_begin(const std::string& type);
  ApiStatus calibrate_window(uintptr_t ids, uint32_t n);
  ApiStatus calibrate_step();
  double calibrate_progress() const;
  ApiStatus calibrate_write();
  void calibrate_clear() { calibrated_.reset(); }

  // W4A4's low-rank remedy (model/importance.h: LowRankCollector) for a quantized model:
  // low_rank_window() runs ids[n] (one calibration window, BOS first) and
  // sums each matrix input's Σz·zᵀ as the integer kernels see it;
  // low_rank_write(rank) puts the model's GGUF file with its inputs' top
  // `rank` directions (the bases) in the result buffer and ends it (the
  // model itself is left without them).
  ApiStatus low_rank_window(uintptr_t ids, uint32_t n);
  ApiStatus low_rank_write(int32_t rank);
  void low_rank_clear() { low_rank_.reset(); }

 private:
  Model* model() const { return text_.model_.get(); }
  ThreadPool* pool() const { return text_.pool_.get(); }
  Status observe_window(uintptr_t ids, uint32_t n, ActivationObserver* observer);

  TextModel& text_;
  std::unique_ptr<ImportanceCollector> importance_;
  std::unique_ptr<CalibratedQuantizer> calibrated_;
  std::unique_ptr<LowRankCollector> low_rank_;
};

}  // namespace nibble
