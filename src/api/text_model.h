// TextModelLoader and TextModel: the C++ handles behind the JavaScript
// loadModel() / Model (web/src/model.mjs).
//
// Like QuantizedMatrix, this facade has no logic of its own beyond checks and
// bookkeeping: it drives src/model (ModelLoader, Generator, write_model_gguf;
// the quantize-only tools are ModelTools, model_tools.h)
// and returns every failure as an ApiStatus; its tokenizer is reached through
// a TextTokenizer (text_tokenizer.h) made from it. Buffers cross the wasm
// boundary as addresses (uintptr_t) that web/ allocates with _malloc, fills
// or reads, and frees; results of variable length (logits, a written file)
// stay in the handle until web/ copies them out (ResultBuffer).
//
// Order of calls: TextModelLoader(weights, mix, clip, file_size) -> feed()
// chunk by chunk (in file order) -> set_tokenizer() for llama2.c -> finish()
// into an empty TextModel. Then start + next and logits, any number of
// times, single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/quantized_matrix.h"  // ApiStatus
#include "api/result_buffer.h"
#include "format/gguf.h"
#include "model/generator.h"
#include "model/model.h"
#include "model/model_loader.h"
#include "runtime/thread_pool.h"

namespace nibble {

class TextModel;

inline constexpr int kPromptBatch = 64;  // prompt tokens per GEMM batch

// A weights type by name ("q4_0", "f32", ...): one whose row holds_weights().
Status parse_weight_type(const std::string& name, TensorType* out);

class TextModelLoader {
 public:
  // weights: a type whose row holds_weights() ("q4_0", "f32", ...); mix: ""
  // or a quantization mix ("q4_k_m", quant_mixes.def), which then decides
  // each matrix's type instead; pure: with a mix, every matrix its base type
  // (llama-quantize --pure), the file keeping the mix's file type; clip: 0 = round-to-nearest, 1 = MSE search
  // (for matrices quantized on load); file_size: the file's length in bytes
  // (a double: JS numbers). describe: keep the file's own tensor table
  // (ModelLoader::tensors) for TextModel::info_json.
  TextModelLoader(const std::string& weights, const std::string& mix, bool pure, int clip, double file_size,
                  bool describe);
  ~TextModelLoader();

  // The next n bytes of the file, at data.
  ApiStatus feed(uintptr_t data, uint32_t n);
  // An importance matrix (llama.cpp's imatrix GGUF file, n bytes at data)
  // for the matrices quantized on load; before the first feed().
  ApiStatus set_importance(uintptr_t data, uint32_t n);
  // W4A4's remedies folded into the matrices quantized on load (bits: 1
  // rotate, 2 smooth, which needs set_importance); before the first feed().
  ApiStatus set_remedy(int32_t code);
  // llama2.c's tokenizer.bin (n bytes at data); not needed for GGUF.
  ApiStatus set_tokenizer(uintptr_t data, uint32_t n);
  // After the whole file was fed: moves the model into `out` (which must be
  // empty). The loader cannot be used afterwards.
  ApiStatus finish(TextModel& out);
  // ModelLoader::touch_ahead: between feeds, while the next bytes are on
  // their way; whether there is more to touch now.
  bool touch_ahead(uint32_t budget);
  double bytes_fed() const;

 private:
  Status options_status_;  // a bad weights/clip argument, reported by feed()
  std::unique_ptr<ImportanceMatrix> importance_;  // outlives loader_
  std::unique_ptr<ModelLoader> loader_;
  uint64_t file_size_ = 0;
  bool describe_ = false;
  bool finished_ = false;

  friend class TextModel;
};

// Why next() produced no token (the StopReason as an int): 0 none (a token
// came), 1 eos, 2 max_tokens, 3 context.
class TextModel : public ResultBuffer {
 public:
  TextModel();
  // threads > 1: generation and logits split each matmul over a pool of that
  // many threads (the caller's included). In wasm the pthreads build only,
  // after web/ has started threads − 1 workers (runtime.mjs reserveThreads).
  explicit TextModel(int threads);
  ~TextModel();
  int32_t threads() const { return pool_ ? pool_->size() : 1; }

  bool loaded() const { return model_ != nullptr; }
  // Everything `info` reports, as one JSON object (see text_model.cpp).
  std::string info_json() const;
  int32_t vocab_size() const;
  int32_t context_length() const;
  int32_t bos() const;
  int32_t eos() const;
  // The model's tokenizer (null before finish()); for TextTokenizer.
  const Tokenizer* tokenizer() const { return model_ ? model_->tokenizer.get() : nullptr; }

  // Starts a generation: prompt ids[n] (int32 at `ids`, BOS included by the
  // caller) go through the model as one batch, after the longest prefix of
  // them the KV cache kept from the last generation (cached_tokens()). temperature 0 = greedy;
  // top_k 0 = no limit; top_p 1 = no limit; seed: an integer below 2^53;
  // precision 0 = W4A8, 1 = W4A32, 2 = W4A4; context: KV-cache positions (0 = the
  // model's context length), at most the model's.
  ApiStatus start(uintptr_t ids, uint32_t n, int32_t max_tokens, float temperature, int32_t top_k,
                  float top_p, double seed, int32_t precision, int32_t context);
  // The next token -> last_token() (or -1 with stop_reason() > 0).
  ApiStatus next();
  int32_t last_token() const { return last_token_; }
  int32_t stop_reason() const { return int32_t(stop_); }
  int32_t prompt_tokens() const;
  int32_t cached_tokens() const;
  int32_t generated_tokens() const;
  // KV-cache positions of the current generator (0 before the first start).
  int32_t context() const;

  // Logits of every position of ids[n] (int32 at `ids`) run from an empty
  // cache of their own (the generator's cache is left as it was), `batch`
  // tokens per forward step (0: 64, as a prompt; 1: one token at a time,
  // the decode path) -> the result buffer, [n, vocab] f32.
  ApiStatus logits(uintptr_t ids, uint32_t n, int32_t precision, int32_t batch);

  // The model as a standard GGUF v3 file -> the result buffer.
  ApiStatus write_gguf();

 private:
  friend class TextModelLoader;
  friend class ModelTools;
  Status check_loaded() const;

  std::unique_ptr<ThreadPool> pool_;  // null: one thread; outlives generator_
  std::unique_ptr<Model> model_;
  std::vector<GgufTensorInfo> file_tensors_;  // the file's table, when the loader was asked to describe it
  std::unique_ptr<Generator> generator_;
  int32_t last_token_ = -1;
  StopReason stop_ = StopReason::kNone;
};

// The most bytes malloc has held from the system at once (its footprint's
// high-water mark): what a load needed at its peak, fragmentation included.
uint32_t heap_peak_bytes();

}  // namespace nibble
