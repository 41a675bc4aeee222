// Tokenizer: text <-> token ids for SentencePiece-style BPE (GGUF "llama",
// llama2.c), GPT-2 byte-level BPE (GGUF "gpt2") and WordPiece (GGUF "bert"),
// following llama.cpp.
//
// encode(text):
//   1. User-defined tokens (type 4) are cut out of the text where they occur
//      literally (longest token text first); control tokens (BOS, EOS, chat
//      markers) are never produced from text.
//   2. SentencePiece: each remaining fragment gets one leading space if
//      add_space_prefix and it starts the text or follows a cut-out token;
//      ' ' becomes "▁"; pieces start as UTF-8 characters and the adjacent pair
//      whose joined text is a token with the highest score merges first
//      (leftmost on ties); a final piece that is no token becomes byte tokens
//      "<0xAB>" (or, lacking those, UNK).
//      GPT-2: the fragment is split into words by the pre-tokenizer that
//      tokenizer.ggml.pre names (pretokenizer.h), each word's bytes are
//      written in the byte alphabet, and merges apply lowest rank first
//      (unless the row ignores merges and the whole word is a token).
//      WordPiece: the fragment is normalized and split into words, each cut
//      greedily into the longest tokens (wordpiece.h).
// decode(ids) is the concatenation of token_piece(ids[i], ids[i-1]) (-1 for
// the first): for text encoded without or with BOS, decode(encode(s)) == s,
// the space added by add_space_prefix being removed again (see token_piece).
// The exceptions: SentencePiece reads a literal "▁" in the input as a space
// (as llama.cpp and sentencepiece do), so it decodes as ' '; and a GPT-2
// vocabulary whose pre-tokenizer row says clean_spaces, and WordPiece, have
// decode() tidy the text as llama.cpp's detokenizer does: no space before
// ? ! . , and before 's 'm 're 've, and " ' " becomes "'". token_piece() never
// tidies. WordPiece decodes what encoding kept: lowercased, accents stripped,
// a space before each word ("▁"), unknown words as nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/status.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/text_index.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece.h"

namespace nibble {

class Tokenizer {
 public:
  // Not copied: its indexes point into its own vocabulary.
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Validates the vocabulary (validate_vocab) and builds the lookup tables.
  static Status Create(Vocab vocab, std::unique_ptr<Tokenizer>* out);
  // Create() for a vocabulary just returned by a reader of vocab.h, which
  // validated it: a large vocabulary is not checked twice per model load.
  static Status CreateValidated(Vocab vocab, std::unique_ptr<Tokenizer>* out);

  // Token ids of `text`, starting with BOS when add_bos (and the vocabulary
  // has one). Any byte string is accepted; invalid UTF-8 is encoded bytewise.
  std::vector<int32_t> encode(const std::string& text, bool add_bos) const;

  struct EncodeOptions {
    bool add_special = true;     // BOS / EOS as the vocabulary's add_bos / add_eos say
    bool parse_special = false;  // control tokens spelled in the text become those tokens
  };
  // As llama.cpp's llama_tokenize: user-defined tokens are always cut out of
  // the text; control tokens ("<|im_start|>", "<|eot_id|>") only with
  // parse_special.
  std::vector<int32_t> encode(const std::string& text, const EncodeOptions& options) const;

  // Whether generating `id` ends the generation: EOS, EOT, EOM and the
  // tokens llama.cpp treats so by their text ("<|im_end|>", "<|eot_id|>",
  // "<end_of_turn>", "<|end|>", "<|endoftext|>", ...).
  bool is_end_of_generation(int32_t id) const;
  const std::vector<int32_t>& end_of_generation_ids() const { return eog_ids_; }

  // The text of `ids`; ids out of range contribute nothing.
  // decode(ids) == finish_streamed(the token_piece()s of ids, concatenated).
  std::string decode(const std::vector<int32_t>& ids) const;
  // Streamed pieces made whole: tidied as the header comment says when
  // cleans_spaces(), else unchanged.
  std::string finish_streamed(std::string pieces) const;
  // Whether decode() tidies spaces: WordPiece, and GPT-2 vocabularies whose
  // pre-tokenizer row says so.
  bool cleans_spaces() const;

  // The text one token adds when streaming, given the token before it (-1 at
  // the start): "▁" becomes ' ', a byte token becomes its raw byte (so the
  // result may be part of a UTF-8 character), GPT-2's byte alphabet is mapped
  // back to bytes, control and unused tokens give "". SentencePiece with
  // add_space_prefix drops the leading space of a piece that follows nothing,
  // a control token (like BOS) or a user-defined token, as llama2.c does
  // after BOS.
  std::string token_piece(int32_t id, int32_t previous_id) const;
  // The text of one token on its own, as llama.cpp's llama_token_to_piece
  // with special = true: control and unused tokens by their text
  // ("<|im_end|>"), the others as token_piece() writes them with no space
  // removed ("▁the" -> " the"; a byte token is its raw byte).
  std::string token_to_piece(int32_t id) const;

  int32_t bos() const { return vocab_.bos; }  // -1: none
  // The pre-tokenizer row of a GPT-2 vocabulary; null for SentencePiece.
  const Pretokenizer* pretokenizer() const { return pre_; }
  int32_t eos() const { return vocab_.eos; }  // -1: none
  int32_t eot() const { return vocab_.eot; }  // end of turn; -1: none
  int32_t eom() const { return vocab_.eom; }  // end of message; -1: none
  int32_t size() const { return vocab_.size(); }
  const Vocab& vocab() const { return vocab_; }

 private:
  Tokenizer() = default;
  int32_t type_of(int32_t id) const { return vocab_.token_types[id]; }
  // The bytes a token of any kind but control and unused stands for, with
  // no space removed (SentencePiece "▁" -> ' ', GPT-2's alphabet -> bytes).
  std::string token_bytes(int32_t id) const;
  int32_t text_to_token(std::string_view text) const { return text_to_id_.find(text); }
  void encode_text(const std::string& text, const std::vector<int32_t>& cut, std::vector<int32_t>* out) const;
  void encode_sentencepiece(const std::string& fragment, bool space_prefix,
                            std::vector<int32_t>* out) const;
  void encode_gpt2(const std::string& fragment, std::vector<int32_t>* out) const;
  void append_gpt2_word(const std::string& word, std::vector<int32_t>* out) const;

  Vocab vocab_;
  // Text -> id of the tokens merges may produce (all but control, unknown,
  // unused and byte tokens); the last id wins for duplicate texts.
  TextIndex text_to_id_;  // over vocab_.tokens
  // SentencePiece byte fallback: byte -> id of "<0xAB>", -1 if missing.
  std::vector<int32_t> byte_to_token_;
  std::vector<int32_t> eog_ids_;  // sorted
  // GPT-2: splits a fragment into the words merges stay within.
  const Pretokenizer* pre_ = nullptr;  // gpt2 vocabularies: the row of tokenizer.ggml.pre
  // GPT-2: "left right" -> merge rank (its position in vocab_.merges).
  TextIndex merge_rank_;
  // GPT-2: UTF-8 of each byte's code point in the byte alphabet.
  std::vector<std::string> gpt2_byte_text_;
  WordPieceIndex wordpiece_;  // WordPiece: the tokens words are cut into
  // User-defined tokens, longest text first.
  std::vector<int32_t> literal_tokens_;  // user-defined tokens, cut out of every text, longest first
  std::vector<int32_t> special_tokens_;  // and control tokens: cut out with parse_special
};

}  // namespace nibble
