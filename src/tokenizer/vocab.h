// Vocab: the tokenizer data of a model, from GGUF metadata or a llama2.c
// tokenizer.bin, validated before a Tokenizer is built from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "runtime/status.h"

namespace nibble {

// GGUF tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum TokenType : int32_t {
  kTokenUndefined = 0,
  kTokenNormal = 1,
  kTokenUnknown = 2,
  kTokenControl = 3,      // BOS, EOS, chat markers: never produced from text
  kTokenUserDefined = 4,  // matched literally in the input text before BPE
  kTokenUnused = 5,
  kTokenByte = 6,         // "<0xAB>": one raw byte (SentencePiece byte fallback)
};

struct Vocab {
  enum class Kind {
    kSentencePiece,  // GGUF tokenizer.ggml.model "llama", llama2.c tokenizer.bin
    kBytePairGpt2,   // GGUF tokenizer.ggml.model "gpt2": byte-level BPE
    kWordPiece,      // GGUF tokenizer.ggml.model "bert": greedy longest match (wordpiece.h)
  };
  Kind kind = Kind::kSentencePiece;
  // Token texts as stored: SentencePiece writes a space as U+2581 "▁";
  // GPT-2 writes every byte as one code point of its byte alphabet; WordPiece
  // starts the tokens that begin a word with "▁" (its "##" continuations are
  // written bare).
  std::vector<std::string> tokens;
  std::vector<float> scores;         // [size]; SentencePiece merge priority (higher first)
  std::vector<int32_t> token_types;  // [size]; TokenType values
  std::vector<std::string> merges;   // GPT-2: "left right", rank = index (lower first)
  int32_t bos = -1, eos = -1, unk = -1, pad = -1;  // -1: none; WordPiece: bos = [CLS], eos = [SEP]
  int32_t eot = -1, eom = -1;     // end of turn / of message (chat models); -1: none
  bool add_bos = false;           // whether callers should start a prompt with BOS
  bool add_eos = false;           // whether encoding with special tokens ends with EOS
  bool add_space_prefix = false;  // SentencePiece: encode prepends one space
  std::string pre;                // GGUF tokenizer.ggml.pre; gpt2: a name in pretokenizers()
  // GGUF tokenizer.chat_template: the model's prompt format, a Jinja
  // template that web/ renders (chat_template.mjs); "" if none.
  std::string chat_template;
  bool lowercase = true;          // WordPiece: lowercase the text
  bool strip_accents = true;      // WordPiece: decompose (NFD) and drop the marks

  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
};

// The GGUF tokenizer.ggml.model of a kind: "llama", "gpt2" or "bert".
const char* tokenizer_model_name(Vocab::Kind kind);

// SentencePiece writes a space as U+2581 "▁".
constexpr char kSentencePieceSpace[] = "\xE2\x96\x81";
// `text` with every ' ' replaced by "▁".
std::string escape_spaces(const std::string& text);

// Whether `text` spells a byte token "<0xAB>" (hex digits in either case),
// and which byte.
bool parse_byte_token(const std::string& text, uint8_t* byte);

// Checks the invariants a Tokenizer relies on: a non-empty token list of at
// most INT32_MAX entries, scores and token_types of the same length, types in
// 0..6, finite-or-infinite (not NaN) scores, special ids in [-1, size); for
// gpt2, merges of two pieces and a `pre` the pre-tokenizer registry knows.
Status validate_vocab(const Vocab& vocab);

// Reads tokenizer.ggml.{model, pre, tokens, scores, token_type, merges,
// bos_token_id, eos_token_id, eot_token_id, eom_token_id, unknown_token_id,
// padding_token_id, add_bos_token, add_eos_token, add_space_prefix} and
// tokenizer.chat_template. Missing optional keys get llama.cpp's
// defaults: "llama": bos 1, eos 2, unk 0, add_bos true, add_space_prefix true,
// scores 0, types normal; "gpt2": bos = eos = 11 (dropped if out of range),
// add_bos false, add_space_prefix false, merges required, and
// tokenizer.ggml.pre must name a row of the pre-tokenizer registry
// (pretokenizer.h; none means GPT-2's); "bert" as llama.cpp: BOS = [CLS]
// (bos_token_id, or the older cls_token_id; default 101), EOS = [SEP]
// (seperator_token_id, so spelled; default 102), unk 100, pad 0, both added
// with special tokens whatever add_bos_token / add_eos_token say,
// tokenizer.ggml.normalizer.lowercase (default true) and .strip_accents
// (default: as lowercase). A special id of
// 0xFFFFFFFF (or -1) means "none"; any other id out of range is an error.
Status vocab_from_gguf(const GgufFile& file, Vocab* out);
// The same, moving the token texts and merges out of *file (its arrays of
// them are left empty) rather than copying them.
Status take_vocab_from_gguf(GgufFile* file, Vocab* out);
// The same from a metadata map (what GgufFile::metadata() returns).
Status vocab_from_gguf_metadata(const std::map<std::string, GgufValue>& metadata, Vocab* out);

// llama2.c tokenizer.bin: int32 max_token_length, then vocab_size records of
// {f32 score, int32 length, length bytes}; bytes past the last record are
// ignored. llama2.c stores "▁" as ' ', which is turned back into "▁".
// Conventions: unk 0, BOS 1, EOS 2 (control), tokens spelled "<0xAB>" are
// byte tokens, kind SentencePiece, add_bos and add_space_prefix true.
Status vocab_from_llama2c(const uint8_t* data, size_t size, int32_t vocab_size, Vocab* out);

}  // namespace nibble
