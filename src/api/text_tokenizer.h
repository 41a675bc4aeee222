// TextTokenizer: the C++ handle behind the JavaScript Tokenizer
// (web/src/tokenizer.mjs): a model's tokenizer (borrowed from its TextModel),
// or one read from the metadata of a GGUF file alone (loadTokenizer: a
// vocab-only file works, tensor data is never needed).
//
// Like TextModel, a facade of checks and bookkeeping over src/tokenizer;
// failures come back as ApiStatus, variable-length results through
// ResultBuffer. Single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/quantized_matrix.h"  // ApiStatus
#include "api/result_buffer.h"
#include "tokenizer/tokenizer.h"

namespace nibble {

class TextModel;

class TextTokenizer : public ResultBuffer {
 public:
  // Empty: load_gguf() fills it.
  TextTokenizer();
  // The tokenizer of a loaded model, borrowed: web/ deletes this handle
  // before the model's.
  explicit TextTokenizer(const TextModel& model);
  ~TextTokenizer();

  // Reads the tokenizer from the first n bytes (at data) of a GGUF file of
  // file_size bytes. When those end inside the header, fails with
  // needs_more() true: call again with more of the file.
  ApiStatus load_gguf(uintptr_t data, uint32_t n, double file_size);
  bool needs_more() const { return needs_more_; }
  bool loaded() const { return tokenizer_ != nullptr; }

  // {kind, pre, vocabSize, bos, eos, eot, eom, unk, pad, endOfGeneration:
  //  [ids], addBos, addEos, addSpacePrefix, chatTemplate} (ids −1: none).
  std::string info_json() const;

  // Token ids of text (UTF-8) -> the result buffer as int32 values.
  // add_bos / add_eos: 1 yes, 0 no, −1 as the vocabulary says;
  // parse_special: control tokens spelled in the text become those tokens.
  ApiStatus tokenize(const std::string& text, int32_t add_bos, int32_t add_eos, bool parse_special);
  // The UTF-8 bytes of ids[n] (int32 at `ids`) -> the result buffer.
  ApiStatus detokenize(uintptr_t ids, uint32_t n);
  // The bytes `token` adds after `previous` (−1: none) when streaming ->
  // out[capacity]; returns their full count (more than capacity: call again
  // with more room). May end inside a UTF-8 character.
  uint32_t piece(int32_t token, int32_t previous, uintptr_t out, uint32_t capacity) const;
  // The bytes of one token on its own, control tokens by their text
  // (Tokenizer::token_to_piece) -> the result buffer.
  ApiStatus token_to_piece(int32_t token);

 private:
  Status check_loaded() const;

  std::unique_ptr<Tokenizer> owned_;  // loaded from a file; null when borrowed
  const Tokenizer* tokenizer_ = nullptr;
  bool needs_more_ = false;
};

}  // namespace nibble
