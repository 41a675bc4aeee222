// Importance matrices as llama-imatrix collects them: for every matrix of a
// model, Σx² of each input column over every position that passes through
// it, and the number of positions. The quantizers weight each column's error
// by its mean (quant/quantize_row.h, *_imatrix).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "format/imatrix_gguf.h"
#include "model/model.h"

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

}  // namespace nibble
