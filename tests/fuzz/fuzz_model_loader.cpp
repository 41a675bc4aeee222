// Fuzz targets gguf_loader and llama2c: a model file streamed through
// ModelLoader as web/ streams a download, in one of a few chunk sizes (a
// chunk boundary may fall anywhere: inside the header, a tensor, a block).
// What loads must also tokenize and run two decoding steps.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_targets.h"
#include "model/generator.h"
#include "model/model_loader.h"

namespace nibble {
namespace fuzz {

namespace {

// Bytes per feed() call, picked by the low 3 bits of an option byte; 0 feeds
// the whole file at once. (No 1-byte chunks: the loader parses the header
// again at each feed until it is complete, so they cost a parse per byte.)
size_t ChunkSize(uint8_t option) {
  static const size_t kChunks[8] = {0, 3, 7, 32, 61, 256, 1000, 4096};
  return kChunks[option & 7];
}

// A failed Status must say what went wrong.
void CheckStatus(const Status& s) { fuzz_check(s.ok() || !s.message().empty(), "an error without a message"); }

// Streams `file` into `loader` `chunk` bytes at a time (0: all at once) and
// finishes; *model is set when the file loaded.
void Load(ModelLoader* loader, const uint8_t* file, size_t size, size_t chunk,
          std::unique_ptr<Model>* model) {
  if (chunk == 0) chunk = std::max<size_t>(size, 1);
  Status s;
  for (size_t at = 0; at < size && s.ok(); at += chunk) {
    // Each chunk in its own allocation, so a read past it is caught by ASan.
    const size_t n = std::min(chunk, size - at);
    const std::vector<uint8_t> piece(file + at, file + at + n);
    s = loader->feed(piece.data(), piece.size());
  }
  if (s.ok()) s = loader->finish(model);
  CheckStatus(s);
  fuzz_check(s.ok() == (*model != nullptr), "finish() succeeded without a model, or failed with one");
}

// What a page does with a loaded model: encode, decode, and (when
// `generate`: the forward pass costs most of an input's time) generate a
// little.
void Exercise(const Model& model, bool generate) {
  const std::vector<int32_t> prompt = model.tokenizer->encode("Once upon a time", true);
  for (int32_t id : prompt) fuzz_check(id >= 0 && id < model.tokenizer->size(), "encode gave an id out of range");
  model.tokenizer->decode(prompt);
  // A vocabulary may have no BOS and no piece of the text.
  if (!generate || prompt.empty()) return;
  Generator generator(model, std::min(16, model.config.context_length), 8, nullptr);
  GenerationOptions options;
  options.max_tokens = 2;
  Status s = generator.start(prompt, options);
  CheckStatus(s);
  for (int i = 0; s.ok() && i < 2; ++i) {
    int32_t token = -1;
    StopReason stop = StopReason::kNone;
    s = generator.next(&token, &stop);
    CheckStatus(s);
    if (!s.ok() || stop != StopReason::kNone) break;
    fuzz_check(token >= 0 && token < model.config.vocab_size, "generated a token out of range");
  }
}

}  // namespace

bool gguf_loader(const uint8_t* data, size_t size) {
  if (size < 1) return false;
  const uint8_t option = data[0];
  LoadOptions options;
  // Bits 3-4: hold the matrices as the default INT4 type, the other one, or
  // f32; bit 5: generate.
  static const TensorType kWeights[4] = {default_quantize_type(), TensorType::Q4_1, TensorType::F32,
                                         TensorType::Q4_0};
  options.weights = kWeights[(option >> 3) & 3];
  ModelLoader loader(options, size - 1);
  std::unique_ptr<Model> model;
  Load(&loader, data + 1, size - 1, ChunkSize(option), &model);
  if (model) Exercise(*model, option & 0x20);
  return model != nullptr;
}

bool llama2c(const uint8_t* data, size_t size) {
  if (size < 5) return false;
  const uint8_t option = data[0];
  uint32_t length = 0;
  std::memcpy(&length, data + 1, 4);
  data += 5;
  size -= 5;
  const size_t checkpoint = std::min<size_t>(length, size);
  ModelLoader loader(LoadOptions(), checkpoint);
  // The tokenizer first, as web/ hands it over before the checkpoint streams.
  const std::vector<uint8_t> tokenizer_file(data + checkpoint, data + size);
  CheckStatus(loader.set_tokenizer_file(tokenizer_file.data(), tokenizer_file.size()));
  std::unique_ptr<Model> model;
  Load(&loader, data, checkpoint, ChunkSize(option), &model);
  if (model) Exercise(*model, option & 0x20);
  return model != nullptr;
}

}  // namespace fuzz
}  // namespace nibble
