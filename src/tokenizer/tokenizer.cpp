#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "tokenizer/bpe_merge.h"
#include "tokenizer/unicode.h"

namespace nibble {

namespace {

// Tokens BPE may build out of text; the others only come from ids.
bool is_mergeable(int32_t type) {
  return type == kTokenNormal || type == kTokenUndefined || type == kTokenUserDefined;
}

// *ids ordered longest text first, equal lengths in the order they had: a
// bottom-up merge sort (std::stable_sort's instantiation was 2.1 KB of the
// gzipped download).
void sort_longest_first(std::vector<int32_t>* ids, const std::vector<std::string>& tokens) {
  const size_t n = ids->size();
  std::vector<int32_t> other(n);
  int32_t *from = ids->data(), *to = other.data();
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      const size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      // The left run's next unless the right run's is longer: equal lengths keep their order.
      for (size_t i = lo, j = mid, k = lo; k < hi; ++k)
        to[k] = j >= hi || (i < mid && tokens[from[j]].size() <= tokens[from[i]].size()) ? from[i++] : from[j++];
    }
    std::swap(from, to);
  }
  if (from != ids->data()) ids->swap(other);
}

// A stretch of the input: raw text, or a user-defined token cut out of it.
struct Fragment {
  size_t begin;
  size_t length;
  int32_t token;  // -1: raw text
};

// Splits the raw fragments around every occurrence of `literal` (token `id`).
std::vector<Fragment> cut_out(const std::string& text, const std::vector<Fragment>& fragments,
                              const std::string& literal, int32_t id) {
  std::vector<Fragment> out;
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(f);
      continue;
    }
    const std::string_view raw = std::string_view(text).substr(f.begin, f.length);
    size_t pos = 0;
    for (size_t hit; (hit = raw.find(literal, pos)) != std::string_view::npos;) {
      if (hit > pos) out.push_back({f.begin + pos, hit - pos, -1});
      out.push_back({f.begin + hit, literal.size(), id});
      pos = hit + literal.size();
    }
    if (pos < raw.size()) out.push_back({f.begin + pos, raw.size() - pos, -1});
  }
  return out;
}

}  // namespace

Status Tokenizer::Create(Vocab vocab, std::unique_ptr<Tokenizer>* out) {
  NIBBLE_RETURN_IF_ERROR(validate_vocab(vocab));
  return CreateValidated(std::move(vocab), out);
}

Status Tokenizer::CreateValidated(Vocab vocab, std::unique_ptr<Tokenizer>* out) {
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->vocab_ = std::move(vocab);
  const Vocab& v = t->vocab_;
  const int32_t n = v.size();

  // (Raw arrays in the per-token loops: this code is built for size, -Oz,
  // where each vector accessor is a call.)
  const int32_t* types = v.token_types.data();
  std::unique_ptr<int32_t[]> mergeable_ids(new int32_t[size_t(n)]);
  int32_t* mergeable = mergeable_ids.get();
  size_t n_mergeable = 0;
  for (int32_t id = 0; id < n; ++id) {
    if (is_mergeable(types[id])) mergeable[n_mergeable++] = id;
    if (types[id] == kTokenUserDefined && !v.tokens[id].empty()) {
      t->literal_tokens_.push_back(id);
    }
  }
  t->text_to_id_.reset(&v.tokens, n_mergeable);
  t->text_to_id_.add_all(mergeable, n_mergeable, /*replace_equal=*/true);
  mergeable_ids.reset();
  sort_longest_first(&t->literal_tokens_, v.tokens);
  // With parse_special, control tokens are cut out too, longest text first
  // among all of them (as llama.cpp partitions the text).
  t->special_tokens_ = t->literal_tokens_;
  for (int32_t id = 0; id < n; ++id)
    if (types[id] == kTokenControl && !v.tokens[id].empty()) t->special_tokens_.push_back(id);
  sort_longest_first(&t->special_tokens_, v.tokens);

  // End of generation: EOS, EOT, EOM, and the tokens llama.cpp recognizes by
  // their text (its llama-vocab.cpp list).
  // (string_views: each comparison checks the length first, where a C
  // string's took a strlen, 12 per token: ~0.1 s for a 150k vocabulary.)
  static constexpr std::string_view kEndOfGenerationTexts[] = {
      "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>", "<|endoftext|>",
      "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>",
  };
  for (int32_t id : {v.eos, v.eot, v.eom})
    if (id >= 0) t->eog_ids_.push_back(id);
  for (int32_t id = 0; id < n; ++id) {
    const std::string_view token = v.tokens[id];
    if (token.size() < 5 || (token[0] != '<' && token[0] != '_')) continue;  // as every text of the list
    for (std::string_view text : kEndOfGenerationTexts)
      if (token == text) t->eog_ids_.push_back(id);
  }
  std::sort(t->eog_ids_.begin(), t->eog_ids_.end());
  t->eog_ids_.erase(std::unique(t->eog_ids_.begin(), t->eog_ids_.end()), t->eog_ids_.end());

  if (v.kind == Vocab::Kind::kWordPiece) {
    t->wordpiece_ = WordPieceIndex(v.tokens, t->text_to_id_.positions());
  } else if (v.kind == Vocab::Kind::kSentencePiece) {
    // Byte fallback: a byte token "<0xAB>" (preferring type byte), else the
    // one-byte token, else UNK.
    t->byte_to_token_.assign(256, -1);
    for (int32_t id = 0; id < n; ++id) {
      uint8_t byte = 0;
      if (!parse_byte_token(v.tokens[id], &byte)) continue;
      int32_t& slot = t->byte_to_token_[byte];
      if (slot < 0 || (v.token_types[id] == kTokenByte && v.token_types[slot] != kTokenByte)) {
        slot = id;
      }
    }
    for (int b = 0; b < 256; ++b) {
      int32_t& slot = t->byte_to_token_[b];
      if (slot < 0) slot = t->text_to_token(std::string(1, static_cast<char>(b)));
      if (slot < 0) slot = v.unk;
    }
  } else {
    const Pretokenizer* pre = nullptr;
    NIBBLE_RETURN_IF_ERROR(find_pretokenizer(v.pre, &pre));  // found: validate_vocab checked it
    t->pre_ = pre;
    t->merge_rank_.reset(&v.merges, v.merges.size());
    t->merge_rank_.add_all(nullptr, v.merges.size(), /*replace_equal=*/false);  // the first rank wins for a repeated merge
    t->gpt2_byte_text_.resize(256);
    for (int b = 0; b < 256; ++b) {
      append_utf8(gpt2_byte_to_codepoint(static_cast<uint8_t>(b)), &t->gpt2_byte_text_[b]);
    }
  }
  *out = std::move(t);
  return Status::Ok();
}

bool Tokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

std::vector<int32_t> Tokenizer::encode(const std::string& text, bool add_bos) const {
  std::vector<int32_t> out;
  if (add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  encode_text(text, literal_tokens_, &out);
  return out;
}

std::vector<int32_t> Tokenizer::encode(const std::string& text, const EncodeOptions& options) const {
  std::vector<int32_t> out;
  if (options.add_special && vocab_.add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  encode_text(text, options.parse_special ? special_tokens_ : literal_tokens_, &out);
  if (options.add_special && vocab_.add_eos && vocab_.eos >= 0) out.push_back(vocab_.eos);
  return out;
}

// Appends the ids of `text`, the tokens of `cut` (longest first) cut out of it.
void Tokenizer::encode_text(const std::string& text, const std::vector<int32_t>& cut,
                            std::vector<int32_t>* ids) const {
  std::vector<int32_t>& out = *ids;
  if (text.empty()) return;
  std::vector<Fragment> fragments{{0, text.size(), -1}};
  for (int32_t id : cut) fragments = cut_out(text, fragments, vocab_.tokens[id], id);

  bool after_token = true;  // the text start counts as following a token
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_token = true;
      continue;
    }
    const std::string raw = text.substr(f.begin, f.length);
    if (vocab_.kind == Vocab::Kind::kSentencePiece) {
      encode_sentencepiece(raw, vocab_.add_space_prefix && after_token, &out);
    } else if (vocab_.kind == Vocab::Kind::kWordPiece) {
      for (const std::string& word : wordpiece_words(raw, vocab_.lowercase, vocab_.strip_accents)) {
        wordpiece_.append_word(word, vocab_.tokens, vocab_.unk, &out);
      }
    } else {
      encode_gpt2(raw, &out);
    }
    after_token = false;
  }
}

void Tokenizer::encode_sentencepiece(const std::string& fragment, bool space_prefix,
                                     std::vector<int32_t>* out) const {
  const std::string text = escape_spaces(space_prefix ? " " + fragment : fragment);
  const std::vector<TextSpan> pieces = bpe_merge(
      text, [this](const char* s, size_t left, size_t right, double* priority) {
        const int32_t id = text_to_token(std::string_view(s, left + right));
        if (id < 0) return false;
        *priority = vocab_.scores[id];
        return true;
      });
  for (const TextSpan& p : pieces) {
    const int32_t id = text_to_token(std::string_view(text).substr(p.start, p.length));
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    for (uint32_t i = 0; i < p.length; ++i) {
      const int32_t byte_id = byte_to_token_[static_cast<uint8_t>(text[p.start + i])];
      if (byte_id >= 0) out->push_back(byte_id);
    }
  }
}

void Tokenizer::encode_gpt2(const std::string& fragment, std::vector<int32_t>* out) const {
  std::string word;
  for (const TextSpan& w : pre_->split(fragment)) {
    word.clear();
    for (uint32_t i = 0; i < w.length; ++i) {
      word += gpt2_byte_text_[static_cast<uint8_t>(fragment[w.start + i])];
    }
    append_gpt2_word(word, out);
  }
}

// `word` is written in the byte alphabet.
void Tokenizer::append_gpt2_word(const std::string& word, std::vector<int32_t>* out) const {
  if (pre_->ignore_merges) {
    const int32_t whole = text_to_token(word);
    if (whole >= 0) {
      out->push_back(whole);
      return;
    }
  }
  const std::vector<TextSpan> pieces = bpe_merge(
      word, [this](const char* s, size_t left, size_t right, double* priority) {
        std::string key(s, left);
        key.push_back(' ');
        key.append(s + left, right);
        const int32_t rank = merge_rank_.find(key);
        if (rank < 0) return false;
        *priority = -static_cast<double>(rank);
        return true;
      });
  for (const TextSpan& p : pieces) {
    const std::string piece = word.substr(p.start, p.length);
    const int32_t id = text_to_token(piece);
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    // A merge whose result is not a token: fall back to its characters.
    for (size_t pos = 0; pos < piece.size();) {
      const Utf8Char c = decode_utf8(piece.data() + pos, piece.size() - pos);
      const int32_t char_id = text_to_token(piece.substr(pos, c.length));
      if (char_id >= 0) out->push_back(char_id);
      else if (vocab_.unk >= 0) out->push_back(vocab_.unk);
      pos += c.length;
    }
  }
}

namespace {

// llama.cpp's clean_spaces, its three passes in order.
std::string clean_spaces(const std::string& text) {
  // " ?", " !", " .", " ," lose the space.
  std::string a;
  for (char c : text) {
    if ((c == '?' || c == '!' || c == '.' || c == ',') && !a.empty() && a.back() == ' ') a.pop_back();
    a.push_back(c);
  }
  // " ' " becomes "'".
  std::string b;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == '\'' && i > 0 && i + 1 < a.size() && a[i + 1] == ' ' && !b.empty() && b.back() == ' ') {
      b.back() = '\'';
      ++i;  // the space after it
      continue;
    }
    b.push_back(a[i]);
  }
  // " 's", " 'm", " 're", " 've" lose the space.
  std::string c;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] == '\'' && !c.empty() && c.back() == ' ' && i + 1 < b.size()) {
      const char x1 = b[i + 1], x2 = i + 2 < b.size() ? b[i + 2] : '\0';
      if (x1 == 's' || x1 == 'm' || ((x1 == 'r' || x1 == 'v') && x2 == 'e')) c.pop_back();
    }
    c.push_back(b[i]);
  }
  return c;
}

}  // namespace

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  int32_t previous = -1;
  for (int32_t id : ids) {
    out += token_piece(id, previous);
    previous = id;
  }
  return finish_streamed(std::move(out));
}

std::string Tokenizer::finish_streamed(std::string pieces) const {
  return cleans_spaces() ? clean_spaces(pieces) : pieces;
}

bool Tokenizer::cleans_spaces() const {
  return vocab_.kind == Vocab::Kind::kWordPiece || (pre_ != nullptr && pre_->clean_spaces);
}

std::string Tokenizer::token_piece(int32_t id, int32_t previous_id) const {
  if (id < 0 || id >= size()) return "";
  const int32_t type = type_of(id);
  if (type == kTokenControl || type == kTokenUnused) return "";
  std::string piece = token_bytes(id);
  if (type == kTokenUserDefined || type == kTokenByte || vocab_.kind == Vocab::Kind::kBytePairGpt2) return piece;
  // Undo the space encode added in front of the text and after cut-out tokens.
  const bool follows_start = previous_id < 0 || previous_id >= size() ||
                             type_of(previous_id) == kTokenControl ||
                             type_of(previous_id) == kTokenUserDefined;
  if (vocab_.add_space_prefix && follows_start && !piece.empty() && piece[0] == ' ') {
    piece.erase(0, 1);
  }
  return piece;
}

std::string Tokenizer::token_to_piece(int32_t id) const {
  if (id < 0 || id >= size()) return "";
  return type_of(id) == kTokenControl || type_of(id) == kTokenUnused ? vocab_.tokens[id] : token_bytes(id);
}

std::string Tokenizer::token_bytes(int32_t id) const {
  const std::string& text = vocab_.tokens[id];
  switch (type_of(id)) {
    case kTokenUserDefined:
      return text;
    case kTokenByte: {
      uint8_t byte = 0;
      return parse_byte_token(text, &byte) ? std::string(1, static_cast<char>(byte)) : "";
    }
    default:
      break;
  }
  std::string piece;
  if (vocab_.kind == Vocab::Kind::kBytePairGpt2) {
    for (size_t pos = 0; pos < text.size();) {
      const Utf8Char c = decode_utf8(text.data() + pos, text.size() - pos);
      uint8_t byte = 0;
      if (c.cp != kInvalidCodepoint && gpt2_codepoint_to_byte(c.cp, &byte)) {
        piece.push_back(static_cast<char>(byte));
      } else {
        piece.append(text, pos, c.length);  // outside the byte alphabet: as written
      }
      pos += c.length;
    }
    return piece;
  }
  piece.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    if (text.compare(pos, 3, kSentencePieceSpace) == 0) {
      piece.push_back(' ');
      pos += 3;
    } else {
      piece.push_back(text[pos++]);
    }
  }
  return piece;
}

}  // namespace nibble
