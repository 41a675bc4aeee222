// Fuzz target gguf: the GGUF reader alone (thousands of inputs a second,
// where gguf_loader's tensor conversions allow tens): a whole file, every
// value read back through the typed getters, and a prefix of it, as the
// streaming loader parses one (need_more).
#include <vector>

#include "format/gguf.h"
#include "fuzz_targets.h"
#include "model/architecture.h"
#include "model/llama_config.h"
#include "tokenizer/vocab.h"

namespace nibble {
namespace fuzz {

bool gguf(const uint8_t* data, size_t size) {
  // In its own allocation, so a read past it is caught by ASan.
  const std::vector<uint8_t> file(data, data + size);
  // A prefix of half the file must either parse or ask for more bytes or
  // fail; more bytes never turn a failure into need_more.
  GgufFile prefix;
  bool need_more = false;
  const Status prefix_status = GgufFile::Parse(file.data(), size / 2, size, &prefix, &need_more);
  fuzz_check(prefix_status.ok() || !prefix_status.message().empty(), "an error without a message");

  GgufFile parsed;
  const Status s = GgufFile::Parse(file.data(), file.size(), file.size(), &parsed);
  fuzz_check(s.ok() || !s.message().empty(), "an error without a message");
  if (!s.ok()) return false;
  fuzz_check(prefix_status.ok() || need_more, "a prefix of a valid file failed without asking for more");
  for (const GgufTensorInfo& t : parsed.tensors())
    fuzz_check(t.offset + t.bytes <= size && t.offset >= parsed.data_offset(), "a tensor outside the file");
  for (const std::string& key : parsed.metadata_keys()) {
    int64_t i;
    double f;
    std::string str;
    const std::vector<std::string>* strings;
    const std::vector<int64_t>* ints;
    const std::vector<double>* floats;
    parsed.get_int(key, &i);
    parsed.get_float(key, &f);
    parsed.get_string(key, &str);
    parsed.get_strings(key, &strings);
    parsed.get_ints(key, &ints);
    parsed.get_floats(key, &floats);
  }
  // What the loader reads first: the vocabulary and the hyperparameters.
  Vocab vocab;
  vocab_from_gguf(parsed, &vocab);
  LlamaConfig config;
  for (const Architecture& arch : builtin_architectures()) config_from_gguf(parsed, arch, &config);
  return true;
}

}  // namespace fuzz
}  // namespace nibble
