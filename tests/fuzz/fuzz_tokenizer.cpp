// Fuzz target tokenizer: a vocabulary from GGUF metadata, then a text encoded
// with and without BOS, decoded whole and piece by piece.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "fuzz_targets.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace nibble {
namespace fuzz {

bool tokenizer(const uint8_t* data, size_t size) {
  if (size < 2) return false;
  const size_t text_length = std::min<size_t>(size_t(data[0]) | size_t(data[1]) << 8, size - 2);
  const std::string text(reinterpret_cast<const char*>(data + 2), text_length);
  // The GGUF file in its own allocation, so a read past it is caught by ASan.
  const std::vector<uint8_t> file(data + 2 + text_length, data + size);

  GgufFile gguf;
  if (!GgufFile::Parse(file.data(), file.size(), file.size(), &gguf).ok()) return false;
  Vocab vocab;
  if (!vocab_from_gguf(gguf, &vocab).ok()) return false;
  std::unique_ptr<Tokenizer> tokenizer;
  const Status s = Tokenizer::Create(std::move(vocab), &tokenizer);
  fuzz_check(s.ok() || !s.message().empty(), "an error without a message");
  if (!s.ok()) return false;

  for (bool add_bos : {false, true}) {
    const std::vector<int32_t> ids = tokenizer->encode(text, add_bos);
    int32_t previous = -1;
    std::string pieces;
    for (int32_t id : ids) {
      fuzz_check(id >= 0 && id < tokenizer->size(), "encode gave an id out of range");
      pieces += tokenizer->token_piece(id, previous);
      previous = id;
    }
    fuzz_check(tokenizer->finish_streamed(pieces) == tokenizer->decode(ids),
               "decode differs from the streamed pieces");
  }
  // Ids out of range contribute nothing.
  tokenizer->decode({-1, tokenizer->size(), INT32_MAX, 0});
  return true;
}

}  // namespace fuzz
}  // namespace nibble
