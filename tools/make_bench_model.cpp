// nibble_make_bench_model: writes the model benchmark's inputs, GGUF v3
// files with seeded random weights in the shape of a real model.
//
//   nibble_make_bench_model <out.gguf> [--seed N] [--shape smollm2-135m|qwen2.5-0.5b] [--mix q4_k_m|...]
//
// smollm2-135m (the default): architecture llama, dim 576, feed-forward 1536, 30 layers, 9 query heads and 3 KV heads
// (head_dim 64), vocabulary 8192, context 2048, RoPE base 10000 (SmolLM2 uses
// 100000; the base does not change the cost), RMSNorm eps 1e-5, output matrix
// tied to token_embd (no output.weight), as in SmolLM2. Metadata keys and
// tensor names come from the architecture table's llama row.
// Weights: Gaussian, std 0.02, quantized to Q4_0 (round-to-nearest); norm
// weights 1.0 in F32. About 62 MB. The file carries a SentencePiece-style
// "llama" tokenizer (specials, 256 byte tokens, then made-up pieces) so that
// llama.cpp-based runtimes (wllama) accept it as a standard file.
//
// qwen2.5-0.5b: architecture qwen2 (QKV biases, zero here), dim 896,
// feed-forward 4864, 24 layers, 14 query heads and 2 KV heads (head_dim 64),
// vocabulary 151,936, RoPE base 1e6, output tied to token_embd, quantized
// as llama-quantize's Q4_K_M mix does (quant_mix.h: 896 is not a multiple of
// 256, so most matrices fall back to Q5_0, the tied embedding to Q8_0, the
// 4864-long ffn_down rows are Q4_K/Q6_K). About 500 MB. A GPT-2-style
// byte-level BPE vocabulary of made-up merges, pre-tokenizer qwen2.
//
// --mix: quantize as llama-quantize's file type of that name instead of the
// shape's (quant_mixes.def; e.g. smollm2-135m --mix q4_k_m: the same random
// weights as the Q4_0 file, mostly Q5_0 since 576 is not a multiple of 256).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "model/architecture.h"
#include "model/quant_mix.h"
#include "quant/quantize.h"
#include "tokenizer/unicode.h"

namespace nibble {
namespace {

// SmolLM2-135M's shape, RoPE base aside.
LlamaConfig SmolLM2Shape() {
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

LlamaConfig Qwen25Shape() {
  LlamaConfig c;
  c.dim = 896;
  c.hidden_dim = 4864;
  c.n_layers = 24;
  c.n_heads = 14;
  c.n_kv_heads = 2;
  c.vocab_size = 151936;
  c.context_length = 2048;
  c.head_dim = c.value_dim = c.rope_dim = c.dim / c.n_heads;
  c.rope_theta = 1000000.0f;
  c.rms_eps = 1e-6f;
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

// W[rows, cols] ~ N(0, std²), quantized to `type`; GGUF shape {cols, rows}.
Status AddRandomMatrix(GgufWriter* writer, GaussianSource* gauss, const std::string& name, TensorType type,
                       int64_t rows, int64_t cols) {
  std::vector<float> w(size_t(rows * cols));
  for (float& v : w) v = kWeightStd * gauss->next();
  std::vector<uint8_t> q(size_t(rows) * row_size(type, cols));
  NIBBLE_RETURN_IF_ERROR(quantize_matrix(type, w.data(), rows, cols, QuantizeOptions(), q.data(), q.size()));
  return writer->add_tensor(name, type, {cols, rows}, q.data(), q.size());
}

// v[n] = value in F32 (norm weights 1, biases 0).
Status AddConstantF32(GgufWriter* writer, const std::string& name, int64_t n, float value) {
  const std::vector<float> v(size_t(n), value);
  return writer->add_tensor(name, TensorType::F32, {n}, v.data(), v.size() * sizeof(float));
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

// A GPT-2-style byte-level BPE vocabulary of exactly `vocab` tokens: the 256
// byte-alphabet characters, made-up merges of them (pairs of a 95-character
// set of common ones, then those pairs with one more character), then three
// control tokens <|endoftext|> (eos) <|im_start|> <|im_end|>; no BOS, as
// Qwen2.5's.
void AddGpt2Tokenizer(GgufWriter* writer, int vocab) {
  enum : int32_t { kNormal = 1, kControl = 3 };
  const std::vector<std::string> specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  std::vector<std::string> tokens, merges, common;
  for (int b = 0; b < 256; ++b) {
    tokens.emplace_back();
    append_utf8(gpt2_byte_to_codepoint(uint8_t(b)), &tokens.back());
  }
  for (int b = 32; b < 127; ++b) common.push_back(tokens[size_t(b)]);  // ' ' (as "Ġ") and printable ASCII
  const size_t pieces = size_t(vocab) - specials.size();
  for (const std::string& a : common)
    for (const std::string& b : common)
      if (tokens.size() < pieces) {
        tokens.push_back(a + b);
        merges.push_back(a + " " + b);
      }
  const size_t first_pair = 256, pairs = tokens.size() - first_pair;
  for (size_t p = 0; p < pairs && tokens.size() < pieces; ++p)
    for (const std::string& c : common)
      if (tokens.size() < pieces) {
        tokens.push_back(tokens[first_pair + p] + c);
        merges.push_back(tokens[first_pair + p] + " " + c);
      }
  std::vector<int32_t> types(tokens.size(), kNormal);
  for (const std::string& special : specials) {
    tokens.push_back(special);
    types.push_back(kControl);
  }
  writer->set_string("tokenizer.ggml.model", "gpt2");
  writer->set_string("tokenizer.ggml.pre", "qwen2");
  writer->set_string_array("tokenizer.ggml.tokens", tokens);
  writer->set_i32_array("tokenizer.ggml.token_type", types);
  writer->set_string_array("tokenizer.ggml.merges", merges);
  writer->set_u32("tokenizer.ggml.eos_token_id", uint32_t(pieces));
  writer->set_u32("tokenizer.ggml.padding_token_id", uint32_t(pieces));
  writer->set_bool("tokenizer.ggml.add_bos_token", false);
}

struct BenchShape {
  const char* name;            // --shape
  const char* architecture;    // a row of the architecture table
  LlamaConfig (*config)();
  const char* mix;             // quant_mixes.def row
  bool pure;                   // every matrix the mix's base type (llama-quantize --pure)
  bool sentencepiece;          // tokenizer: SentencePiece "llama", else GPT-2 BPE
};
const BenchShape kShapes[] = {
    {"smollm2-135m", "llama", SmolLM2Shape, "q4_0", true, true},
    {"qwen2.5-0.5b", "qwen2", Qwen25Shape, "q4_k_m", false, false},
};

Status BuildBenchModel(const BenchShape& shape, uint64_t seed, GgufWriter* writer) {
  const Architecture& arch = *find_architecture(builtin_architectures(), shape.architecture);
  const QuantMix& mix = *find_quant_mix(shape.mix);
  const LlamaConfig c = shape.config();
  writer->set_string("general.architecture", arch.name);
  writer->set_string("general.name", std::string("nibble-bench-") + shape.name + "-shape-random");
  writer->set_u32("general.file_type", mix.file_type);
  write_config_keys(arch, c, writer);
  if (shape.sentencepiece) {
    AddTokenizer(writer, c.vocab_size);
  } else {
    AddGpt2Tokenizer(writer, c.vocab_size);
  }

  GaussianSource gauss(seed);
  Status s;
  for_each_tensor(arch, c.n_layers, [&](const TensorSpec& spec, int layer) {
    if (!s.ok() || !spec.required) return;  // no output.weight: tied to token_embd
    const std::vector<int64_t> dims = expected_shape(spec, c);  // GGUF order
    const std::string name = tensor_name(spec, layer);
    if (dims.size() == 2) {
      const TensorType chosen =
          shape.pure ? mix.base : quant_mix_type(mix, spec.slot, layer, dims[0], arch.name, c, /*tied_output=*/true);
      const TensorType type = fallback_type(chosen, dims[0]);
      s = AddRandomMatrix(writer, &gauss, name, type, dims[1], dims[0]);
    } else {
      const bool bias = spec.slot == TensorSlot::kAttnQBias || spec.slot == TensorSlot::kAttnKBias ||
                        spec.slot == TensorSlot::kAttnVBias;
      s = AddConstantF32(writer, name, dims[0], bias ? 0.0f : 1.0f);
    }
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
  std::fprintf(stderr, "usage: nibble_make_bench_model <out.gguf> [--seed N] [--shape smollm2-135m|qwen2.5-0.5b] [--mix q4_k_m|...]\n");
  return 2;
}

}  // namespace
}  // namespace nibble

int main(int argc, char** argv) {
  using namespace nibble;
  std::string out_path;
  uint64_t seed = 1;
  const BenchShape* shape = &kShapes[0];
  const char* mix = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      char* end = nullptr;
      seed = std::strtoull(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0') return Usage();
    } else if (std::strcmp(argv[i], "--shape") == 0 && i + 1 < argc) {
      const std::string name = argv[++i];
      shape = nullptr;
      for (const BenchShape& s : kShapes)
        if (name == s.name) shape = &s;
      if (shape == nullptr) return Usage();
    } else if (std::strcmp(argv[i], "--mix") == 0 && i + 1 < argc) {
      mix = argv[++i];
      if (find_quant_mix(mix) == nullptr) return Usage();
    } else if (argv[i][0] != '-' && out_path.empty()) {
      out_path = argv[i];
    } else {
      return Usage();
    }
  }
  if (out_path.empty()) return Usage();

  BenchShape chosen = *shape;
  if (mix != nullptr) {
    chosen.mix = mix;
    chosen.pure = false;
  }
  GgufWriter writer;
  Status status = BuildBenchModel(chosen, seed, &writer);
  if (status.ok()) status = WriteFile(out_path, writer.serialize());
  if (!status.ok()) {
    std::fprintf(stderr, "nibble_make_bench_model: %s\n", status.message().c_str());
    return 1;
  }
  std::printf("wrote %s (%s, %s, seed %llu)\n", out_path.c_str(), chosen.name, chosen.mix, static_cast<unsigned long long>(seed));
  return 0;
}
