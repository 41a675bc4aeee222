// nibble_make_bench_model: writes the model benchmark's input, a LLaMA GGUF v3
// file with seeded random weights in the shape of SmolLM2-135M.
//
//   nibble_make_bench_model <out.gguf> [--seed N]
//
// Shape: dim 576, feed-forward 1536, 30 layers, 9 query heads and 3 KV heads
// (head_dim 64), vocabulary 8192, context 2048, RoPE base 10000 (SmolLM2 uses
// 100000; the base does not change the cost), RMSNorm eps 1e-5, output matrix
// tied to token_embd (no output.weight), as in SmolLM2. Metadata keys and
// tensor names come from the architecture table's llama row.
// Weights: Gaussian, std 0.02, quantized to Q4_0 (round-to-nearest); norm
// weights 1.0 in F32. About 62 MB. The file carries a SentencePiece-style
// "llama" tokenizer (specials, 256 byte tokens, then made-up pieces) so that
// llama.cpp-based runtimes (wllama) accept it as a standard file.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "model/architecture.h"
#include "quant/quantize.h"

namespace nibble {
namespace {

// SmolLM2-135M's shape, RoPE base aside.
LlamaConfig BenchShape() {
  LlamaConfig c;
  c.dim = 576;
  c.hidden_dim = 1536;
  c.n_layers = 30;
  c.n_heads = 9;
  c.n_kv_heads = 3;
  c.vocab_size = 8192;
  c.context_length = 2048;
  c.head_dim = c.value_dim = c.rope_dim = c.dim / c.n_heads;
  c.rope_theta = 10000.0f;
  c.rms_eps = 1e-5f;
  return c;
}

constexpr float kWeightStd = 0.02f;

// Gaussian samples from splitmix64 + Box–Muller: our own generator so the
// weights do not depend on the standard library's distribution code.
class GaussianSource {
 public:
  explicit GaussianSource(uint64_t seed) : state_(seed) {}
  float next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // u1 in (0, 1], u2 in [0, 1): 53-bit uniforms.
    const double u1 = (double(next_u64() >> 11) + 1.0) * 0x1.0p-53;
    const double u2 = double(next_u64() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586 * u2;
    spare_ = float(r * std::sin(angle));
    has_spare_ = true;
    return float(r * std::cos(angle));
  }

 private:
  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
  float spare_ = 0;
  bool has_spare_ = false;
};

// W[rows, cols] ~ N(0, std²), quantized to Q4_0; GGUF shape {cols, rows}.
Status AddRandomQ4_0(GgufWriter* writer, GaussianSource* gauss, const std::string& name,
                     int64_t rows, int64_t cols) {
  std::vector<float> w(size_t(rows * cols));
  for (float& v : w) v = kWeightStd * gauss->next();
  std::vector<uint8_t> q(size_t(rows) * row_size(TensorType::Q4_0, cols));
  NIBBLE_RETURN_IF_ERROR(quantize_matrix(TensorType::Q4_0, w.data(), rows, cols, QuantizeOptions(),
                                         q.data(), q.size()));
  return writer->add_tensor(name, TensorType::Q4_0, {cols, rows}, q.data(), q.size());
}

// norm[n] = 1.0 in F32.
Status AddOnesF32(GgufWriter* writer, const std::string& name, int64_t n) {
  const std::vector<float> ones(size_t(n), 1.0f);
  return writer->add_tensor(name, TensorType::F32, {n}, ones.data(), ones.size() * sizeof(float));
}

// A "llama" (SentencePiece BPE) vocabulary of exactly `vocab` tokens:
// <unk> <s> </s>, the 256 byte-fallback tokens <0x00>..<0xFF>, then unique
// made-up pieces: "▁", printable ASCII, "▁x", "xy", "▁xy", "xyz"...
void AddTokenizer(GgufWriter* writer, int vocab) {
  // Token types as llama.cpp numbers them.
  enum : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6 };
  const std::string kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's word boundary
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {kUnknown, kControl, kControl};
  for (int b = 0; b < 256; ++b) {
    char piece[8];
    std::snprintf(piece, sizeof(piece), "<0x%02X>", b);
    tokens.push_back(piece);
    types.push_back(kByte);
  }
  const size_t first_piece = tokens.size();
  auto add = [&](const std::string& piece) {
    if (tokens.size() < size_t(vocab)) {
      tokens.push_back(piece);
      types.push_back(kNormal);
    }
  };
  add(kSpace);
  for (char c = 33; c < 127; ++c) add(std::string(1, c));
  const std::string alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (char c : alnum) add(kSpace + c);
  for (char a = 'a'; a <= 'z'; ++a)
    for (char b = 'a'; b <= 'z'; ++b) add(std::string{a, b});
  for (char a = 'a'; a <= 'z'; ++a)
    for (char b = 'a'; b <= 'z'; ++b) add(kSpace + std::string{a, b});
  for (char a = 'a'; a <= 'z' && tokens.size() < size_t(vocab); ++a)
    for (char b = 'a'; b <= 'z'; ++b)
      for (char c = 'a'; c <= 'z'; ++c) add(std::string{a, b, c});

  // Scores rank the merges: earlier (shorter) pieces merge first.
  std::vector<float> scores(tokens.size(), 0.0f);
  for (size_t i = first_piece; i < tokens.size(); ++i) scores[i] = -float(i - first_piece);

  writer->set_string("tokenizer.ggml.model", "llama");
  writer->set_string_array("tokenizer.ggml.tokens", tokens);
  writer->set_f32_array("tokenizer.ggml.scores", scores);
  writer->set_i32_array("tokenizer.ggml.token_type", types);
  writer->set_u32("tokenizer.ggml.unknown_token_id", 0);
  writer->set_u32("tokenizer.ggml.bos_token_id", 1);
  writer->set_u32("tokenizer.ggml.eos_token_id", 2);
  writer->set_bool("tokenizer.ggml.add_bos_token", true);
  writer->set_bool("tokenizer.ggml.add_eos_token", false);
}

Status BuildBenchModel(const LlamaConfig& c, uint64_t seed, GgufWriter* writer) {
  const Architecture& llama = *find_architecture(builtin_architectures(), "llama");
  writer->set_string("general.architecture", llama.name);
  writer->set_string("general.name", "nibble-bench-smollm2-135m-shape-random");
  writer->set_u32("general.file_type", tensor_type_info(TensorType::Q4_0)->llama_file_type);
  write_config_keys(llama, c, writer);
  AddTokenizer(writer, c.vocab_size);

  GaussianSource gauss(seed);
  Status s;
  for_each_tensor(llama, c.n_layers, [&](const TensorSpec& spec, int layer) {
    if (!s.ok() || !spec.required) return;  // no output.weight: tied to token_embd
    const std::vector<int64_t> shape = expected_shape(spec, c);  // GGUF order
    s = shape.size() == 2 ? AddRandomQ4_0(writer, &gauss, tensor_name(spec, layer), shape[1], shape[0])
                          : AddOnesF32(writer, tensor_name(spec, layer), shape[0]);
  });
  return s;
}

Status WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return ResourceError("cannot open " + path + " for writing");
  const size_t written = std::fwrite(bytes.data(), 1, bytes.size(), f);
  const bool closed = std::fclose(f) == 0;
  if (written != bytes.size() || !closed) return ResourceError("short write to " + path);
  return Status::Ok();
}

int Usage() {
  std::fprintf(stderr, "usage: nibble_make_bench_model <out.gguf> [--seed N]\n");
  return 2;
}

}  // namespace
}  // namespace nibble

int main(int argc, char** argv) {
  using namespace nibble;
  std::string out_path;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      char* end = nullptr;
      seed = std::strtoull(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0') return Usage();
    } else if (argv[i][0] != '-' && out_path.empty()) {
      out_path = argv[i];
    } else {
      return Usage();
    }
  }
  if (out_path.empty()) return Usage();

  GgufWriter writer;
  Status status = BuildBenchModel(BenchShape(), seed, &writer);
  if (status.ok()) status = WriteFile(out_path, writer.serialize());
  if (!status.ok()) {
    std::fprintf(stderr, "nibble_make_bench_model: %s\n", status.message().c_str());
    return 1;
  }
  std::printf("wrote %s (seed %llu)\n", out_path.c_str(), static_cast<unsigned long long>(seed));
  return 0;
}
