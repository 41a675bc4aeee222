// ResultBuffer: a result of variable length (token ids, text bytes, logits, a
// written file) that a handle keeps until web/ copies it out:
// result_size(), then copy_result() into a heap buffer of that many bytes,
// then clear_result() to free it early.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace nibble {

class ResultBuffer {
 public:
  uint32_t result_size() const { return uint32_t(result_.size()); }
  void copy_result(uintptr_t out) const {
    if (!result_.empty()) std::memcpy(reinterpret_cast<void*>(out), result_.data(), result_.size());
  }
  void clear_result() { std::vector<uint8_t>().swap(result_); }

 protected:
  std::vector<uint8_t> result_;
};

}  // namespace nibble
