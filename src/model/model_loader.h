// ModelLoader builds a Model from a file fed through in order, chunk by chunk,
// so the caller (web/ streaming a download, or a file read in slices) never
// holds the whole file in the wasm heap: each tensor is staged alone,
// converted to the kernels' layout, and its staging freed; a matrix that
// keeps its file's type is packed as its rows arrive, with no staging copy.
// Peak memory is the model plus one tensor.
//
// Formats, told apart by their first bytes: GGUF v3 (an architecture of the
// table in architecture.h, tokenizer embedded) and llama2.c checkpoints
// (LLaMA; tokenizer given separately with set_tokenizer_file).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "format/imatrix_gguf.h"
#include "kernels/packed_weights.h"
#include "tokenizer/vocab.h"
#include "model/activation_remedy.h"
#include "model/architecture.h"
#include "model/model.h"
#include "model/quant_mix.h"
#include "quant/block_formats.h"

namespace nibble {

struct LoadOptions {
  // How to hold the matrices: a type whose row holds_weights() (the
  // quantization targets, or F32). A matrix already of a compact type the
  // kernels run keeps its type unless this is F32.
  TensorType weights = default_quantize_type();
  // If set, matrices converted on load get this mix's per-tensor types
  // (llama-quantize's file type) instead of `weights`.
  const QuantMix* mix = nullptr;
  // With mix: every matrix gets the mix's base type (with the same
  // fallbacks) and the file its general.file_type: llama-quantize --pure.
  bool pure = false;
  ClipMode clip = ClipMode::kNone;  // for matrices quantized on load
  // If set, matrices quantized on load that it has data for are weighted by
  // it (llama-quantize --imatrix); it must outlive the loader.
  const ImportanceMatrix* importance = nullptr;
  // The most bytes the heap may hold (0: no limit) and what it holds before
  // the load: a model whose load would need more than the difference fails
  // once its header is read, before any tensor is allocated.
  uint64_t memory_limit = 0;
  uint64_t memory_in_use = 0;
  // The rows general.architecture is looked up in (a test adds its own).
  const std::vector<Architecture>* architectures = &builtin_architectures();
};

class ModelLoader {
 public:
  // file_size: the file's total length in bytes (GGUF offsets are checked
  // against it, and a llama2.c header is checked against it).
  ModelLoader(const LoadOptions& options, uint64_t file_size);
  ~ModelLoader();

  // The next `size` bytes of the file.
  Status feed(const uint8_t* data, size_t size);
  // Importance data for the matrices quantized on load (LoadOptions::
  // importance); only before the first byte is fed.
  Status set_importance(const ImportanceMatrix* importance);
  // W4A4's remedies (activation_remedy.h), folded into the matrices
  // quantized on load; smoothing takes its statistics from the importance
  // data, which still weights the matrices whose inputs are not rotated (by
  // the smoothed inputs' Σx²); rotated ones are quantized unweighted. Only
  // before the first byte is fed.
  Status set_remedy(const ActivationRemedy& remedy);
  // llama2.c's tokenizer.bin (not needed for GGUF).
  Status set_tokenizer_file(const uint8_t* data, size_t size);
  // After the whole file was fed.
  Status finish(std::unique_ptr<Model>* out);

  // Once the header is in: writes to memory the rest of the model will fill
  // (first-touch page faults, runtime/fresh_pages.h), at most `budget`
  // bytes of it, for a caller waiting for the file's next bytes. Returns
  // whether there is more to touch now; the model is the same either way.
  bool touch_ahead(size_t budget);

  uint64_t bytes_fed() const { return fed_; }
  // The file's tensor table, in file order, once its header has parsed
  // (empty before). A llama2.c checkpoint's tensors have their GGUF names.
  const std::vector<GgufTensorInfo>& tensors() const { return file_tensors_; }

 private:
  struct PlannedTensor {
    std::string name;
    TensorType type;
    std::vector<int64_t> shape;  // GGUF order
    uint64_t offset;
    uint64_t bytes;
    const TensorSpec* spec;  // in model_->architecture
    int layer;               // -1 for whole-model tensors
    std::vector<float> input_shift;  // the file's (kShiftKeyPrefix key), or empty
    std::vector<float> input_basis;  // the file's (kBasisKeyPrefix key), or empty
  };
  struct MemoryNeed {
    uint64_t held = 0;     // the loaded model's weights and vocabulary
    uint64_t passing = 0;  // the most that placing one tensor holds besides
  };
  bool keeps_file_type(const PlannedTensor& t) const;  // a compact type the kernels run, kept as is
  TensorType chosen_type(const PlannedTensor& t) const;  // the type asked for a converted matrix
  // Whether importance data weights the matrix's quantization (and so the
  // mix's rules for an importance matrix apply): not when its input is rotated.
  bool weighs_by_importance(const PlannedTensor& t) const;
  MemoryNeed memory_need() const;
  Status check_memory() const;
  Status parse_header();
  Status plan_gguf(GgufFile& file);  // takes the vocabulary out of file
  Status plan_llama2c();
  Status finish_plan();
  Status make_tokenizer();  // from vocab_ (checked against the config), into the model
  Status convert_matrix(const PlannedTensor& t, const uint8_t* data, PackedWeights* out);
  Status convert_matrix_values(const PlannedTensor& t, const uint8_t* data, PackedWeights* out);
  Status consume(const uint8_t* data, size_t size, uint64_t offset);
  Status place_tensor(const PlannedTensor& t, const uint8_t* data);
  Status check_scales(const PlannedTensor& t, const uint8_t* data, uint64_t first_block, uint64_t blocks) const;
  Status start_streamed(const PlannedTensor& t);
  Status stream_bytes(const PlannedTensor& t, const uint8_t* data, size_t size);
  Status pack_streamed(const PlannedTensor& t, const uint8_t* data, size_t size);
  Status set_input_shifts();

  LoadOptions options_;
  uint64_t file_size_;
  uint64_t fed_ = 0;
  Status failed_;  // sticky: after an error every call returns it
  bool planned_ = false;
  bool tied_output_ = false;      // the file has no output matrix
  bool file_rotated_ = false;     // the file's matrices take rotated inputs (kRotationKey)
  ActivationRemedy remedy_options_;     // set_remedy()'s
  // RemedyPlan::Create, reached only through set_remedy(): a program that
  // never calls it links without the remedies' planning (the download's
  // wasm module, whose tools module loads with remedies: bindings/).
  decltype(&RemedyPlan::Create) plan_remedy_ = nullptr;
  std::unique_ptr<RemedyPlan> remedy_;  // when remedy_options_ asks for one
  // The byte buffers are strings, not std::vector<uint8_t>: this code is
  // built for size (-Oz, CMakeLists.txt), where a vector's clear() and
  // destructor step through every byte (~40 ms of a Qwen-sized load, for
  // its 4 MB header and the row groups a chunk's end cuts); a string's
  // only set its length.
  std::string header_;   // bytes buffered until the header parses
  // A GGUF header that needed more bytes is parsed again only once header_
  // has doubled: fed in small chunks, a large header (a vocabulary of
  // megabytes) is parsed O(log n) times, not once per chunk (found by
  // fuzz_gguf_loader: 3-byte chunks of a 21 KB file took 8 s). The first
  // try waits for 4 MiB or 1/16 of the file, the less (the buffer adds at
  // most that to the peak): a large vocabulary's header (Qwen2.5's 4 MB)
  // then parses once, not at each doubling from the first 1 MiB chunk on
  // (three times, 1.7x its bytes).
  size_t header_retry_at_;
  std::vector<GgufTensorInfo> file_tensors_;
  std::vector<PlannedTensor> plan_;  // sorted by offset
  size_t next_ = 0;               // index into plan_ of the tensor being read
  uint64_t received_ = 0;         // bytes of plan_[next_] so far
  // plan_[next_] staged whole until its last byte (staging_), or, a matrix
  // that keeps its file type, packed into *streamed_ as its row groups
  // arrive (staging_ then holds one incomplete group; streamed_bytes_ were
  // packed).
  std::string staging_;
  PackedWeights* streamed_ = nullptr;
  uint64_t streamed_bytes_ = 0;
  size_t streamed_touched_ = 0;  // bytes of *streamed_ touch_ahead() has written
  // The heap above malloc's break that the tensors will take (the heap
  // grown for them as the plan was made, runtime/fresh_pages.h):
  // touch_ahead() has written up to fresh_from_. Empty natively.
  uintptr_t fresh_from_ = 0, fresh_end_ = 0;
  std::unique_ptr<Model> model_;
  LlamaWeights weights_;
  std::unique_ptr<Vocab> vocab_;
  std::vector<uint8_t> tokenizer_file_;  // llama2.c tokenizer.bin, read at finish()
  std::vector<bool> placed_;      // per plan entry
};

}  // namespace nibble
