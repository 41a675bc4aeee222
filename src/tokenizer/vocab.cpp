#include "tokenizer/vocab.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

#include "runtime/decimal_text.h"
#include "tokenizer/pretokenizer.h"

namespace nibble {

namespace {

bool is_integer_type(GgufType t) {
  switch (t) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::UINT16: case GgufType::INT16:
    case GgufType::UINT32: case GgufType::INT32: case GgufType::UINT64: case GgufType::INT64:
      return true;
    default:
      return false;
  }
}

bool is_float_type(GgufType t) { return t == GgufType::FLOAT32 || t == GgufType::FLOAT64; }

// Reads GGUF metadata with the error messages a person needs: the key, what
// was expected and what was found.
class MetadataReader {
 public:
  // take: the same map, writable: arrays of strings are moved out of it
  // rather than copied (a 150k-token vocabulary's texts and merges).
  MetadataReader(const std::map<std::string, GgufValue>& md, std::map<std::string, GgufValue>* take)
      : md_(md), take_(take) {}

  const GgufValue* find(const std::string& key) const {
    auto it = md_.find(key);
    return it == md_.end() ? nullptr : &it->second;
  }

  Status string(const std::string& key, std::string* out) const {
    const GgufValue* v = find(key);
    if (!v) return Status::Ok();  // absent: *out keeps its default
    if (v->type != GgufType::STRING) return wrong_type(key, "a string");
    *out = v->s;
    return Status::Ok();
  }

  Status boolean(const std::string& key, bool* out) const {
    const GgufValue* v = find(key);
    if (!v) return Status::Ok();  // absent: *out keeps its default
    if (v->type != GgufType::BOOL) return wrong_type(key, "a bool");
    *out = v->i != 0;
    return Status::Ok();
  }

  // A token id: an integer in [0, n_tokens). 0xFFFFFFFF and -1 mean "none"
  // (llama.cpp's converters write them for absent tokens).
  Status token_id(const std::string& key, int64_t n_tokens, int32_t* out) const {
    const GgufValue* v = find(key);
    if (!v) return Status::Ok();  // absent: *out keeps its default
    if (!is_integer_type(v->type)) return wrong_type(key, "an integer token id");
    if (v->i == -1 || v->i == 0xFFFFFFFFll) {
      *out = -1;
      return Status::Ok();
    }
    if (v->i < 0 || v->i >= n_tokens) {
      return FormatError("GGUF metadata " + key + " = " + integer_text(v->i) +
                         " is not a token id: the vocabulary has " + integer_text(n_tokens) +
                         " tokens");
    }
    *out = static_cast<int32_t>(v->i);
    return Status::Ok();
  }

  Status string_array(const std::string& key, std::vector<std::string>* out) const {
    const GgufValue* v = find(key);
    if (!v) return Status::Ok();  // absent: *out keeps its default
    if (v->type != GgufType::ARRAY || v->array_type != GgufType::STRING) {
      return wrong_type(key, "an array of strings");
    }
    if (take_) {
      *out = std::move(take_->find(key)->second.strings);
    } else {
      *out = v->strings;
    }
    return Status::Ok();
  }

  Status float_array(const std::string& key, std::vector<float>* out) const {
    const GgufValue* v = find(key);
    if (!v) return Status::Ok();  // absent: *out keeps its default
    if (v->type != GgufType::ARRAY || !is_float_type(v->array_type)) {
      return wrong_type(key, "an array of floats");
    }
    out->assign(v->floats.begin(), v->floats.end());
    return Status::Ok();
  }

  Status int32_array(const std::string& key, std::vector<int32_t>* out) const {
    const GgufValue* v = find(key);
    if (!v) return Status::Ok();  // absent: *out keeps its default
    if (v->type != GgufType::ARRAY || !is_integer_type(v->array_type)) {
      return wrong_type(key, "an array of integers");
    }
    // (Raw arrays: this code is built for size, -Oz, where each vector
    // accessor in a loop is a call.)
    const size_t n = v->ints.size();
    const int64_t* in = v->ints.data();
    out->resize(n);
    int32_t* to = out->data();
    for (size_t i = 0; i < n; ++i) {
      const int64_t x = in[i];
      if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()) {
        return FormatError("GGUF metadata " + key + "[" + integer_text(i) + "] = " +
                           integer_text(x) + " does not fit in 32 bits");
      }
      to[i] = static_cast<int32_t>(x);
    }
    return Status::Ok();
  }

 private:
  static const char* type_noun(GgufType t) {
    switch (t) {
      case GgufType::STRING: return "string";
      case GgufType::BOOL: return "bool";
      case GgufType::ARRAY: return "array";
      case GgufType::FLOAT32: case GgufType::FLOAT64: return "float";
      default: return "integer";
    }
  }
  Status wrong_type(const std::string& key, const char* expected) const {
    const GgufValue& v = md_.at(key);
    const std::string noun = type_noun(v.type);
    std::string found = (noun == "array" || noun == "integer" ? "an " : "a ") + noun;
    if (v.type == GgufType::ARRAY) found += std::string(" of ") + type_noun(v.array_type) + "s";
    return FormatError("GGUF metadata " + key + " should be " + expected + ", found " + found);
  }

  const std::map<std::string, GgufValue>& md_;
  std::map<std::string, GgufValue>* take_;
};

// One row per tokenizer.ggml.model: the kind of vocabulary and llama.cpp's
// defaults for what its metadata leaves out (ids dropped when out of range).
struct VocabKindRow {
  const char* model;
  Vocab::Kind kind;
  int32_t bos, eos, unk, pad;  // -1: none
  bool add_bos, add_eos, add_space_prefix;
};
const VocabKindRow kVocabKinds[] = {
    {"llama", Vocab::Kind::kSentencePiece, 1, 2, 0, -1, true, false, true},
    {"gpt2", Vocab::Kind::kBytePairGpt2, 11, 11, -1, -1, false, false, false},
    // BERT's [CLS] [SEP] [UNK] [PAD]; [CLS] and [SEP] are always added.
    {"bert", Vocab::Kind::kWordPiece, 101, 102, 100, 0, true, true, false},
};

const VocabKindRow* vocab_kind_row(const std::string& model) {
  for (const VocabKindRow& r : kVocabKinds)
    if (model == r.model) return &r;
  return nullptr;
}

Status check_special_id(const char* name, int32_t id, int32_t size) {
  if (id < -1 || id >= size) {
    return OutOfRange(std::string("vocabulary ") + name + " id " + integer_text(id) +
                      " is not a token id: the vocabulary has " + integer_text(size) + " tokens");
  }
  return Status::Ok();
}

}  // namespace

const char* tokenizer_model_name(Vocab::Kind kind) {
  for (const VocabKindRow& r : kVocabKinds)
    if (r.kind == kind) return r.model;
  return "";
}

std::string escape_spaces(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ') out += kSentencePieceSpace; else out.push_back(c);
  }
  return out;
}

bool parse_byte_token(const std::string& text, uint8_t* byte) {
  if (text.size() != 6 || text.compare(0, 3, "<0x") != 0 || text[5] != '>') return false;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(text[3]), lo = hex(text[4]);
  if (hi < 0 || lo < 0) return false;
  *byte = static_cast<uint8_t>(hi * 16 + lo);
  return true;
}

Status validate_vocab(const Vocab& vocab) {
  if (vocab.tokens.empty()) return FormatError("the vocabulary has no tokens");
  if (vocab.tokens.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return ResourceError("the vocabulary has more than 2^31-1 tokens");
  }
  const int32_t n = vocab.size();
  if (vocab.scores.size() != vocab.tokens.size()) {
    return FormatError("the vocabulary has " + integer_text(n) + " tokens but " +
                       integer_text(vocab.scores.size()) + " scores");
  }
  if (vocab.token_types.size() != vocab.tokens.size()) {
    return FormatError("the vocabulary has " + integer_text(n) + " tokens but " +
                       integer_text(vocab.token_types.size()) + " token types");
  }
  // (Per-token loops over raw arrays: this code is built for size, -Oz,
  // where each vector or string accessor in a loop is a call.)
  const float* scores = vocab.scores.data();
  const int32_t* types = vocab.token_types.data();
  for (int32_t i = 0; i < n; ++i) {
    if (scores[i] != scores[i]) {  // NaN (std::isnan is a call at -Oz)
      return FormatError("the score of token " + integer_text(i) + " is NaN");
    }
    const int32_t t = types[i];
    if (t < kTokenUndefined || t > kTokenByte) {
      return FormatError("token " + integer_text(i) + " has type " + integer_text(t) +
                         ", not one of 0..6");
    }
  }
  NIBBLE_RETURN_IF_ERROR(check_special_id("BOS", vocab.bos, n));
  NIBBLE_RETURN_IF_ERROR(check_special_id("EOS", vocab.eos, n));
  NIBBLE_RETURN_IF_ERROR(check_special_id("UNK", vocab.unk, n));
  NIBBLE_RETURN_IF_ERROR(check_special_id("PAD", vocab.pad, n));
  if (vocab.kind == Vocab::Kind::kWordPiece && vocab.unk < 0) {
    return FormatError("the WordPiece (bert) vocabulary has no unknown token "
                       "(tokenizer.ggml.unknown_token_id), which it writes for every word it cannot spell");
  }
  if (vocab.kind == Vocab::Kind::kBytePairGpt2) {
    const Pretokenizer* pre = nullptr;
    NIBBLE_RETURN_IF_ERROR(find_pretokenizer(vocab.pre, &pre));
    const std::string* merges = vocab.merges.data();
    for (size_t i = 0, count = vocab.merges.size(); i < count; ++i) {
      // llama.cpp splits at the first space after the first byte.
      const std::string_view m = merges[i];
      const char* space = m.size() > 1 ? static_cast<const char*>(std::memchr(m.data() + 1, ' ', m.size() - 1)) : nullptr;
      if (space == nullptr || space + 1 == m.data() + m.size()) {
        return FormatError("BPE merge " + integer_text(i) + " \"" + std::string(m) +
                           "\" is not two pieces separated by a space");
      }
    }
  }
  return Status::Ok();
}

namespace {
Status read_vocab(const std::map<std::string, GgufValue>& metadata, std::map<std::string, GgufValue>* take, Vocab* out);
}  // namespace

Status vocab_from_gguf(const GgufFile& file, Vocab* out) { return read_vocab(file.metadata(), nullptr, out); }

Status take_vocab_from_gguf(GgufFile* file, Vocab* out) {
  return read_vocab(file->metadata(), file->mutable_metadata(), out);
}

Status vocab_from_gguf_metadata(const std::map<std::string, GgufValue>& metadata, Vocab* out) {
  return read_vocab(metadata, nullptr, out);
}

namespace {
Status read_vocab(const std::map<std::string, GgufValue>& metadata, std::map<std::string, GgufValue>* take, Vocab* out) {
  const MetadataReader md(metadata, take);
  Vocab v;
  std::string model;
  if (!md.find("tokenizer.ggml.model")) {
    return FormatError("GGUF metadata has no tokenizer.ggml.model: the file carries no tokenizer");
  }
  NIBBLE_RETURN_IF_ERROR(md.string("tokenizer.ggml.model", &model));
  NIBBLE_RETURN_IF_ERROR(md.string("tokenizer.ggml.pre", &v.pre));
  const VocabKindRow* row = vocab_kind_row(model);
  if (row == nullptr) {
    std::string names;
    for (const VocabKindRow& r : kVocabKinds) names += std::string(names.empty() ? "" : ", ") + r.model;
    return FormatError("tokenizer.ggml.model = \"" + model + "\" is not supported (supported: " + names + ")");
  }
  v.kind = row->kind;
  v.bos = row->bos; v.eos = row->eos; v.unk = row->unk; v.pad = row->pad;
  v.add_bos = row->add_bos;
  v.add_eos = row->add_eos;
  v.add_space_prefix = row->add_space_prefix;
  if (v.kind == Vocab::Kind::kBytePairGpt2) {
    // validate_vocab checks this too; here it is said before any complaint
    // about the tokens of a file nibble could not encode anyway.
    const Pretokenizer* pre = nullptr;
    NIBBLE_RETURN_IF_ERROR(find_pretokenizer(v.pre, &pre));
  }

  if (!md.find("tokenizer.ggml.tokens")) {
    return FormatError("GGUF metadata has no tokenizer.ggml.tokens");
  }
  NIBBLE_RETURN_IF_ERROR(md.string_array("tokenizer.ggml.tokens", &v.tokens));
  if (v.tokens.empty()) return FormatError("tokenizer.ggml.tokens is empty");
  if (v.tokens.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return ResourceError("tokenizer.ggml.tokens has more than 2^31-1 tokens");
  }
  const size_t n = v.tokens.size();
  auto check_length = [n](const char* key, size_t got) {
    if (got == n) return Status::Ok();
    return FormatError(std::string("GGUF metadata ") + key + " has " + integer_text(got) +
                       " entries but tokenizer.ggml.tokens has " + integer_text(n));
  };
  if (md.find("tokenizer.ggml.scores")) {
    NIBBLE_RETURN_IF_ERROR(md.float_array("tokenizer.ggml.scores", &v.scores));
    NIBBLE_RETURN_IF_ERROR(check_length("tokenizer.ggml.scores", v.scores.size()));
  } else {
    v.scores.assign(n, 0.0f);
  }
  if (md.find("tokenizer.ggml.token_type")) {
    NIBBLE_RETURN_IF_ERROR(md.int32_array("tokenizer.ggml.token_type", &v.token_types));
    NIBBLE_RETURN_IF_ERROR(check_length("tokenizer.ggml.token_type", v.token_types.size()));
  } else {
    v.token_types.assign(n, kTokenNormal);
  }
  if (v.kind == Vocab::Kind::kBytePairGpt2) {
    if (!md.find("tokenizer.ggml.merges")) {
      return FormatError("tokenizer.ggml.model is gpt2 but GGUF metadata has no tokenizer.ggml.merges");
    }
    NIBBLE_RETURN_IF_ERROR(md.string_array("tokenizer.ggml.merges", &v.merges));
  }

  // Defaults that do not fit this vocabulary are dropped, as llama.cpp does;
  // ids read from the file must fit.
  const int32_t size = v.size();
  for (int32_t* id : {&v.bos, &v.eos, &v.unk}) {
    if (*id >= size) *id = -1;
  }
  const bool wordpiece = v.kind == Vocab::Kind::kWordPiece;
  // WordPiece starts with [CLS] (older files name it cls_token_id) and ends
  // with [SEP], which is what its EOS stands for here.
  if (wordpiece) NIBBLE_RETURN_IF_ERROR(md.token_id("tokenizer.ggml.cls_token_id", size, &v.bos));
  NIBBLE_RETURN_IF_ERROR(md.token_id("tokenizer.ggml.bos_token_id", size, &v.bos));
  NIBBLE_RETURN_IF_ERROR(md.token_id(wordpiece ? "tokenizer.ggml.seperator_token_id" : "tokenizer.ggml.eos_token_id",
                                     size, &v.eos));
  NIBBLE_RETURN_IF_ERROR(md.token_id("tokenizer.ggml.eot_token_id", size, &v.eot));
  NIBBLE_RETURN_IF_ERROR(md.token_id("tokenizer.ggml.eom_token_id", size, &v.eom));
  NIBBLE_RETURN_IF_ERROR(md.token_id("tokenizer.ggml.unknown_token_id", size, &v.unk));
  NIBBLE_RETURN_IF_ERROR(md.token_id("tokenizer.ggml.padding_token_id", size, &v.pad));
  if (wordpiece) {  // llama.cpp adds [CLS] and [SEP] whatever add_bos_token / add_eos_token say
    NIBBLE_RETURN_IF_ERROR(md.boolean("tokenizer.ggml.normalizer.lowercase", &v.lowercase));
    v.strip_accents = v.lowercase;  // as Hugging Face's BertNormalizer when strip_accents is unset
    NIBBLE_RETURN_IF_ERROR(md.boolean("tokenizer.ggml.normalizer.strip_accents", &v.strip_accents));
  } else {
    NIBBLE_RETURN_IF_ERROR(md.boolean("tokenizer.ggml.add_bos_token", &v.add_bos));
    NIBBLE_RETURN_IF_ERROR(md.boolean("tokenizer.ggml.add_eos_token", &v.add_eos));
  }
  NIBBLE_RETURN_IF_ERROR(md.boolean("tokenizer.ggml.add_space_prefix", &v.add_space_prefix));
  NIBBLE_RETURN_IF_ERROR(md.string("tokenizer.chat_template", &v.chat_template));

  NIBBLE_RETURN_IF_ERROR(validate_vocab(v));
  *out = std::move(v);
  return Status::Ok();
}
}  // namespace

Status vocab_from_llama2c(const uint8_t* data, size_t size, int32_t vocab_size, Vocab* out) {
  if (vocab_size < 3) {
    return InvalidArgument("llama2.c vocab_size " + integer_text(vocab_size) +
                           " is too small: it needs at least <unk>, BOS and EOS");
  }
  if (data == nullptr && size != 0) return InvalidArgument("tokenizer.bin data is null");
  size_t pos = 0;
  // Reads 4 little-endian bytes; false when the file ends first.
  auto read4 = [&](void* dst) {
    if (size - pos < 4) return false;
    std::memcpy(dst, data + pos, 4);
    pos += 4;
    return true;
  };
  int32_t max_token_length = 0;
  if (!read4(&max_token_length)) {
    return FormatError("tokenizer.bin is " + integer_text(size) +
                       " bytes, too short for its 4-byte header");
  }
  if (max_token_length < 0) {
    return FormatError("tokenizer.bin max_token_length is negative (" +
                       integer_text(max_token_length) + ")");
  }
  // Each record takes at least 8 bytes: refuse before allocating for a
  // vocab_size the file cannot hold.
  if (static_cast<uint64_t>(vocab_size) * 8 > size - pos) {
    return FormatError("tokenizer.bin is " + integer_text(size) + " bytes, too short for " +
                       integer_text(vocab_size) + " tokens");
  }
  Vocab v;
  v.kind = Vocab::Kind::kSentencePiece;
  v.tokens.reserve(vocab_size);
  v.scores.reserve(vocab_size);
  v.token_types.reserve(vocab_size);
  for (int32_t i = 0; i < vocab_size; ++i) {
    float score = 0;
    int32_t length = 0;
    if (!read4(&score) || !read4(&length)) {
      return FormatError("tokenizer.bin ends inside the header of token " + integer_text(i) +
                         " of " + integer_text(vocab_size));
    }
    if (length < 0) {
      return FormatError("tokenizer.bin token " + integer_text(i) + " has negative length " +
                         integer_text(length));
    }
    if (length > max_token_length) {
      return FormatError("tokenizer.bin token " + integer_text(i) + " is " +
                         integer_text(length) + " bytes, longer than max_token_length " +
                         integer_text(max_token_length));
    }
    if (static_cast<size_t>(length) > size - pos) {
      return FormatError("tokenizer.bin token " + integer_text(i) + " claims " +
                         integer_text(length) + " bytes but only " + integer_text(size - pos) +
                         " remain in the file");
    }
    if (std::isnan(score)) {
      return FormatError("tokenizer.bin token " + integer_text(i) + " has a NaN score");
    }
    const std::string text(reinterpret_cast<const char*>(data + pos), length);
    pos += length;
    int32_t type = kTokenNormal;
    uint8_t byte = 0;
    if (i == 0) type = kTokenUnknown;
    else if (i == 1 || i == 2) type = kTokenControl;
    else if (parse_byte_token(text, &byte)) type = kTokenByte;
    v.tokens.push_back(type == kTokenNormal ? escape_spaces(text) : text);
    v.scores.push_back(score);
    v.token_types.push_back(type);
  }
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.add_bos = true;
  v.add_space_prefix = true;
  NIBBLE_RETURN_IF_ERROR(validate_vocab(v));
  *out = std::move(v);
  return Status::Ok();
}

}  // namespace nibble
