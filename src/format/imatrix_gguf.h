// llama.cpp's importance-matrix file (what llama-imatrix writes and
// llama-quantize --imatrix reads), a GGUF v3 file:
//   general.type = "imatrix", imatrix.datasets (strings),
//   imatrix.chunk_count, imatrix.chunk_size (u32);
//   per weight matrix <name>.in_sum2 (F32 [cols]: Σx² of each input column
//   over every position seen) and <name>.counts (F32 [1]: the positions),
//   and, optional (newer llama-imatrix writes it; older files lack it),
//   <name>.in_sum (F32 [cols]: Σx), the tensors in name order.
// Per-expert data (in_sum2 [cols, experts]) and the older binary .dat
// format are refused with a message that says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace nibble {

struct ImportanceMatrix {
  struct Entry {
    std::vector<float> sums;        // [cols] Σx² per input column
    std::vector<float> value_sums;  // [cols] Σx per input column, or empty (in_sum absent)
    float count = 0;          // positions seen
  };
  std::map<std::string, Entry> tensors;  // by weight tensor name ("blk.0.attn_q.weight")
  std::vector<std::string> datasets;     // where the calibration text came from
  uint32_t chunk_count = 0;              // windows of chunk_size tokens seen
  uint32_t chunk_size = 0;

  // llama-quantize's weights for a matrix with `cols` input columns: sums /
  // count per column (all ones when count is 0). False if the file has no
  // entry of that width for `name`.
  bool column_weights(const std::string& name, int64_t cols, std::vector<float>* out) const;
};

// Parses the file in data[size]. Malformed input gives a kFormat error.
Status read_imatrix_gguf(const uint8_t* data, size_t size, ImportanceMatrix* out);
// The file of m.
Status write_imatrix_gguf(const ImportanceMatrix& m, std::vector<uint8_t>* out);

}  // namespace nibble
