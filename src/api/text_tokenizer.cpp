// TextTokenizer: checks and bookkeeping around src/tokenizer.
#include "api/text_tokenizer.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "api/text_model.h"
#include "format/gguf.h"
#include "runtime/decimal_text.h"
#include "runtime/json_writer.h"
#include "tokenizer/vocab.h"

namespace nibble {

TextTokenizer::TextTokenizer() = default;
TextTokenizer::TextTokenizer(const TextModel& model) : tokenizer_(model.tokenizer()) {}
TextTokenizer::~TextTokenizer() = default;

Status TextTokenizer::check_loaded() const {
  if (tokenizer_ == nullptr) return StateError("no tokenizer is loaded in this handle");
  return Status::Ok();
}

ApiStatus TextTokenizer::load_gguf(uintptr_t data, uint32_t n, double file_size) {
  needs_more_ = false;
  if (tokenizer_ != nullptr) return ApiStatus::From(StateError("this handle already holds a tokenizer"));
  if (!(file_size >= n && std::floor(file_size) == file_size))
    return ApiStatus::From(OutOfRange("the file size must be a whole number of bytes, at least the bytes given"));
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(data);
  if (n >= 4 && std::memcmp(bytes, "GGUF", 4) != 0)
    return ApiStatus::From(FormatError("not a GGUF file: loadTokenizer reads the tokenizer of GGUF files only "
                                       "(a llama2.c tokenizer.bin goes with its checkpoint to loadModel)"));
  GgufFile file;
  bool need_more = false;
  Status s = GgufFile::Parse(bytes, n, uint64_t(file_size), &file, &need_more);
  if (!s.ok()) {
    needs_more_ = need_more && n < file_size;
    return ApiStatus::From(s);
  }
  Vocab vocab;
  s = take_vocab_from_gguf(&file, &vocab);
  if (s.ok()) s = Tokenizer::CreateValidated(std::move(vocab), &owned_);  // the reader validated it
  if (!s.ok()) return ApiStatus::From(s);
  tokenizer_ = owned_.get();
  return ApiStatus();
}

std::string TextTokenizer::info_json() const {
  if (tokenizer_ == nullptr) return "null";
  const Vocab& v = tokenizer_->vocab();
  JsonWriter j;
  j.begin_object();
  j.key("kind").string(tokenizer_model_name(v.kind));
  j.key("pre").string(v.pre);
  j.key("vocabSize").integer(v.size());
  j.key("bos").integer(v.bos);
  j.key("eos").integer(v.eos);
  j.key("eot").integer(v.eot);
  j.key("eom").integer(v.eom);
  j.key("unk").integer(v.unk);
  j.key("pad").integer(v.pad);
  j.key("endOfGeneration").begin_array();
  for (int32_t id : tokenizer_->end_of_generation_ids()) j.integer(id);
  j.end_array();
  j.key("addBos").boolean(v.add_bos);
  j.key("addEos").boolean(v.add_eos);
  j.key("addSpacePrefix").boolean(v.add_space_prefix);
  j.key("chatTemplate").string(v.chat_template);
  j.end_object();
  return j.str();
}

ApiStatus TextTokenizer::tokenize(const std::string& text, int32_t add_bos, int32_t add_eos, bool parse_special) {
  Status s = check_loaded();
  if (!s.ok()) return ApiStatus::From(s);
  if (add_bos < -1 || add_bos > 1 || add_eos < -1 || add_eos > 1)
    return ApiStatus::From(OutOfRange("add_bos and add_eos are 1 (yes), 0 (no) or -1 (as the vocabulary says)"));
  const Vocab& v = tokenizer_->vocab();
  Tokenizer::EncodeOptions options;
  options.add_special = false;  // BOS and EOS are added here, each as asked
  options.parse_special = parse_special;
  std::vector<int32_t> ids;
  if ((add_bos == 1 || (add_bos == -1 && v.add_bos)) && v.bos >= 0) ids.push_back(v.bos);
  const std::vector<int32_t> body = tokenizer_->encode(text, options);
  ids.insert(ids.end(), body.begin(), body.end());
  if ((add_eos == 1 || (add_eos == -1 && v.add_eos)) && v.eos >= 0) ids.push_back(v.eos);
  result_.resize(ids.size() * sizeof(int32_t));
  if (!ids.empty()) std::memcpy(result_.data(), ids.data(), result_.size());
  return ApiStatus();
}

ApiStatus TextTokenizer::detokenize(uintptr_t ids, uint32_t n) {
  Status s = check_loaded();
  if (!s.ok()) return ApiStatus::From(s);
  const int32_t* p = reinterpret_cast<const int32_t*>(ids);
  const std::string text = tokenizer_->decode(std::vector<int32_t>(p, p + n));
  result_.assign(text.begin(), text.end());
  return ApiStatus();
}

uint32_t TextTokenizer::piece(int32_t token, int32_t previous, uintptr_t out, uint32_t capacity) const {
  if (tokenizer_ == nullptr) return 0;
  const std::string bytes = tokenizer_->token_piece(token, previous);
  std::memcpy(reinterpret_cast<void*>(out), bytes.data(), std::min<size_t>(bytes.size(), capacity));
  return uint32_t(bytes.size());
}

ApiStatus TextTokenizer::token_to_piece(int32_t token) {
  Status s = check_loaded();
  if (!s.ok()) return ApiStatus::From(s);
  if (token < 0 || token >= tokenizer_->size())
    return ApiStatus::From(OutOfRange("token " + integer_text(token) + " is outside the vocabulary (0.." +
                                      integer_text(tokenizer_->size() - 1) + ")"));
  const std::string bytes = tokenizer_->token_to_piece(token);
  result_.assign(bytes.begin(), bytes.end());
  return ApiStatus();
}

}  // namespace nibble
