#include "model/importance.h"

namespace nibble {

ImportanceCollector::ImportanceCollector(const Model& model) : model_(model) {}

void ImportanceCollector::matmul_input(TensorSlot slot, int layer, const float* x, int rows, int cols) {
  const TensorSpec* spec = spec_of(model_.architecture, slot);
  if (spec == nullptr) return;
  Sums& s = seen_[tensor_name(*spec, layer)];
  if (s.sums.empty()) {
    s.sums.assign(size_t(cols), 0.0);
    s.value_sums.assign(size_t(cols), 0.0);
  }
  for (int r = 0; r < rows; ++r) {
    const float* row = x + size_t(r) * cols;
    for (int j = 0; j < cols; ++j) {
      s.sums[size_t(j)] += double(row[j]) * double(row[j]);
      s.value_sums[size_t(j)] += double(row[j]);
    }
  }
  s.count += rows;
}

ImportanceMatrix ImportanceCollector::matrix() const {
  ImportanceMatrix m;
  m.chunk_count = windows_;
  for (const auto& [name, s] : seen_) {
    ImportanceMatrix::Entry& e = m.tensors[name];
    e.sums.assign(s.sums.begin(), s.sums.end());
    e.value_sums.assign(s.value_sums.begin(), s.value_sums.end());
    e.count = float(s.count);
  }
  return m;
}

}  // namespace nibble
