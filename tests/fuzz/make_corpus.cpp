// make_corpus: writes the fuzz targets' seed corpus (tests/fuzz/corpus/) with
// nibble's own writers: tiny LLaMA models in every tensor type, llama2.c
// checkpoints with their tokenizer.bin, SentencePiece, GPT-2 and WordPiece vocabularies
// with texts, and blocks of every type. Deterministic: running it again
// rewrites the same bytes.
//
//   make_corpus <corpus dir>     (tools/fuzz.sh --corpus runs it)
//
// Each file is prefixed as its target's input layout says (fuzz_targets.h).
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "model/architecture.h"
#include "quant/block_formats.h"
#include "quant/fp16.h"
#include "quant/quantize.h"

namespace nibble {
namespace {

using Bytes = std::vector<uint8_t>;

bool Write(const std::string& path, const Bytes& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

void AppendU32(Bytes* b, uint32_t v) {
  for (int k = 0; k < 4; ++k) b->push_back(uint8_t(v >> (8 * k)));
}
void AppendF32(Bytes* b, float f) {
  uint32_t v;
  std::memcpy(&v, &f, 4);
  AppendU32(b, v);
}

// `count` blocks of `type` holding small finite values: quantized from
// random floats where nibble has a quantizer, otherwise random bytes with
// the fp16 scales set small (Q6_K's d is its last field).
Bytes Blocks(TensorType type, int64_t rows, int64_t cols, std::mt19937* rng) {
  const BlockTraits& t = *block_traits(type);
  Bytes out(size_t(rows) * row_size(type, cols));
  if (t.quantize != nullptr) {
    std::normal_distribution<float> gauss(0.0f, 0.1f);
    std::vector<float> x(size_t(rows * cols));
    for (float& v : x) v = gauss(*rng);
    quantize_matrix(type, x.data(), rows, cols, QuantizeOptions(), out.data(), out.size());
    return out;
  }
  for (uint8_t& b : out) b = uint8_t((*rng)());
  const uint16_t small = fp32_to_fp16(0.01f);
  for (size_t at = 0; at < out.size(); at += t.block_bytes) {
    for (int s = 0; s < t.fp16_scales; ++s) std::memcpy(&out[at + 2 * s], &small, 2);
    if (type == TensorType::Q6_K) std::memcpy(&out[at + t.block_bytes - 2], &small, 2);
  }
  return out;
}

// A SentencePiece ("llama") vocabulary of `size` tokens: <unk> <s> </s>, a
// few byte tokens, a user-defined token, then "▁" and letters.
void SentencePieceVocab(GgufWriter* w, int size) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "<0x0A>", "<0xC3>", "<0xA9>", "<tool>"};
  std::vector<int32_t> types = {2, 3, 3, 6, 6, 6, 4};
  const char* pieces[] = {"\xE2\x96\x81", "\xE2\x96\x81O", "nce", "\xE2\x96\x81t", "he", "\xE2\x96\x81the"};
  for (const char* p : pieces) tokens.push_back(p), types.push_back(1);
  for (char c = 'a'; int(tokens.size()) < size; ++c) tokens.push_back(std::string(1, c)), types.push_back(1);
  std::vector<float> scores(tokens.size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = -float(i);
  w->set_string("tokenizer.ggml.model", "llama");
  w->set_string_array("tokenizer.ggml.tokens", tokens);
  w->set_f32_array("tokenizer.ggml.scores", scores);
  w->set_i32_array("tokenizer.ggml.token_type", types);
  w->set_u32("tokenizer.ggml.bos_token_id", 1);
  w->set_u32("tokenizer.ggml.eos_token_id", 2);
}

// GPT-2's byte alphabet: printable bytes stand for themselves, the others
// for code points from U+0100 up, in byte order.
std::vector<std::string> Gpt2ByteAlphabet() {
  std::vector<std::string> out(256);
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    const int cp = printable ? b : next++;
    out[size_t(b)] = cp < 0x80 ? std::string(1, char(cp))
                               : std::string{char(0xC0 | (cp >> 6)), char(0x80 | (cp & 63))};
  }
  return out;
}

// A GPT-2 byte-level vocabulary: the byte alphabet, a few merges, an
// end-of-text token.
void Gpt2Vocab(GgufWriter* w, const std::string& pre) {
  std::vector<std::string> tokens = Gpt2ByteAlphabet();
  const std::string space = tokens[' '];
  const std::vector<std::string> merges = {space + " t", "h e", space + "t he", "i n", space + " a"};
  for (const std::string& m : merges) {
    const size_t cut = m.find(' ');
    tokens.push_back(m.substr(0, cut) + m.substr(cut + 1));
  }
  tokens.push_back("<|endoftext|>");
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;
  w->set_string("tokenizer.ggml.model", "gpt2");
  if (!pre.empty()) w->set_string("tokenizer.ggml.pre", pre);
  w->set_string_array("tokenizer.ggml.tokens", tokens);
  w->set_i32_array("tokenizer.ggml.token_type", types);
  w->set_string_array("tokenizer.ggml.merges", merges);
  w->set_u32("tokenizer.ggml.eos_token_id", uint32_t(tokens.size() - 1));
}

// A WordPiece ("bert") vocabulary as llama.cpp's converter writes BERT's:
// [..] control tokens, words starting with "▁", bare continuations.
void WordPieceVocab(GgufWriter* w) {
  const std::string m = "\xE2\x96\x81";  // ▁
  const std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", m + "the", m + "th", "in", "n",
                                           m + ",", m + "t", "hin", m + "\xC3\xA9", "t", m + "c", "at", m + "'"};
  std::vector<int32_t> types(tokens.size(), 1);
  for (int i = 0; i < 4; ++i) types[i] = 3;
  w->set_string("tokenizer.ggml.model", "bert");
  w->set_string_array("tokenizer.ggml.tokens", tokens);
  w->set_i32_array("tokenizer.ggml.token_type", types);
  w->set_u32("tokenizer.ggml.unknown_token_id", 1);
  w->set_u32("tokenizer.ggml.cls_token_id", 2);
  w->set_u32("tokenizer.ggml.seperator_token_id", 3);
}

// A tiny LLaMA GGUF: dim 32, 2 heads of 16 (one KV head), 1 layer, a
// 20-token vocabulary; matrices of `type` (row length 32), ffn_down (row
// length `hidden`) of `down_type`, norms f32.
Bytes TinyGguf(TensorType type, TensorType down_type, int hidden, std::mt19937* rng) {
  LlamaConfig c;
  c.dim = 32;
  c.hidden_dim = hidden;
  c.n_layers = 1;
  c.n_heads = 2;
  c.n_kv_heads = 1;
  c.vocab_size = 20;
  c.context_length = 16;
  c.head_dim = c.rope_dim = 16;
  const Architecture& llama = *find_architecture(builtin_architectures(), "llama");
  GgufWriter w;
  w.set_string("general.architecture", llama.name);
  write_config_keys(llama, c, &w);
  SentencePieceVocab(&w, c.vocab_size);
  for_each_tensor(llama, c.n_layers, [&](const TensorSpec& spec, int layer) {
    if (!spec.required) return;
    const std::vector<int64_t> shape = expected_shape(spec, c);
    const std::string name = tensor_name(spec, layer);
    if (shape.size() == 1) {
      const std::vector<float> ones(size_t(shape[0]), 1.0f);
      w.add_tensor(name, TensorType::F32, shape, ones.data(), ones.size() * 4);
      return;
    }
    const TensorType t = spec.slot == TensorSlot::kFfnDown ? down_type : type;
    const Bytes data = Blocks(t, shape[1], shape[0], rng);
    w.add_tensor(name, t, shape, data.data(), data.size());
  });
  return w.serialize();
}

// A llama2.c checkpoint (dim 8, hidden 16, 1 layer, 2 heads, vocabulary 12,
// 8 positions); a separate classifier when `shared` is false.
Bytes TinyLlama2c(bool shared, std::mt19937* rng) {
  const int dim = 8, hidden = 16, layers = 1, heads = 2, kv_heads = 2, vocab = 12, seq = 8;
  Bytes b;
  for (int v : {dim, hidden, layers, heads, kv_heads, shared ? vocab : -vocab, seq}) AppendU32(&b, uint32_t(v));
  const int head = dim / heads;
  const int floats = vocab * dim + layers * (2 * dim + 2 * dim * dim + 2 * dim * head * kv_heads +
                                             3 * dim * hidden) +
                     dim + seq * head + (shared ? 0 : vocab * dim);
  std::normal_distribution<float> gauss(0.0f, 0.1f);
  for (int i = 0; i < floats; ++i) AppendF32(&b, gauss(*rng));
  return b;
}

// llama2.c's tokenizer.bin for `vocab` tokens: <unk> <s> </s>, then pieces
// (llama2.c spells "▁" as ' ').
Bytes TinyTokenizerBin(int vocab) {
  Bytes b;
  AppendU32(&b, 8);
  const char* pieces[] = {"<unk>", "\n<s>\n", "\n</s>\n", "<0x41>", " ", " O", "nce", "a", "b", " t", "he", " the"};
  for (int i = 0; i < vocab; ++i) {
    const std::string p = pieces[i % 12];
    AppendF32(&b, -float(i));
    AppendU32(&b, uint32_t(p.size()));
    b.insert(b.end(), p.begin(), p.end());
  }
  return b;
}

Bytes Prefixed(const Bytes& prefix, const Bytes& rest) {
  Bytes out = prefix;
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace
}  // namespace nibble

int main(int argc, char** argv) {
  using namespace nibble;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus <corpus dir>\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::mt19937 rng(16);
  bool ok = true;
  auto write = [&](const std::string& target, const std::string& name, const Bytes& bytes) {
    ok = Write(dir + "/" + target + "/" + name, bytes) && ok;
  };

  // gguf_loader: every type as the matrices' type; the K-quants (row length
  // 256) as ffn_down's. The option byte walks the chunk sizes and weights.
  // gguf: the same files of the 32-weight block types, and vocabularies.
  uint8_t option = 0;
  for (const TensorTypeInfo& t : kTensorTypes) {
    const bool k_quant = t.block_size == kQK_K;
    const Bytes file = k_quant ? TinyGguf(TensorType::Q4_0, t.type, 256, &rng)
                               : TinyGguf(t.type, t.type, 64, &rng);
    write("gguf_loader", std::string("llama-") + t.name, Prefixed({option}, file));
    if (t.block_size == kQK) write("gguf", std::string("llama-") + t.name, file);
    option = uint8_t((option + 9) ^ 0x20);  // next chunk size and weights type, generate or not
  }
  // gguf_loader also reads llama2.c files (no tokenizer given: an error; the
  // replay test expects a "rejected-" seed to be refused).
  write("gguf_loader", "rejected-llama2c-without-tokenizer", Prefixed({3}, TinyLlama2c(true, &rng)));

  // llama2c: shared and separate classifier, with their tokenizer.bin.
  for (bool shared : {true, false}) {
    const Bytes checkpoint = TinyLlama2c(shared, &rng);
    Bytes input = {uint8_t(shared ? 0x20 : 5)};
    AppendU32(&input, uint32_t(checkpoint.size()));
    input = Prefixed(Prefixed(input, checkpoint), TinyTokenizerBin(12));
    write("llama2c", shared ? "shared-classifier" : "separate-classifier", input);
  }

  // tokenizer: SentencePiece, GPT-2 (each pre-tokenizer spelling) and
  // WordPiece vocabularies, each with a text.
  const std::string texts[] = {"Once upon a time, the <tool> said:\n\xC3\xA9t\xC3\xA9!",
                               "the  thin\tcat's 123 \xF0\x9F\x98\x80 in\xFF\xFE"};
  for (int i = 0; i < 2; ++i) {
    GgufWriter w;
    SentencePieceVocab(&w, 24);
    w.set_bool("tokenizer.ggml.add_space_prefix", i == 0);
    const std::string& text = texts[i];
    const Bytes prefix = {uint8_t(text.size()), uint8_t(text.size() >> 8)};
    write("tokenizer", "llama-" + std::to_string(i),
          Prefixed(Prefixed(prefix, Bytes(text.begin(), text.end())), w.serialize()));
  }
  int n = 0;
  for (const char* pre : {"", "gpt2", "gpt-2"}) {
    GgufWriter w;
    Gpt2Vocab(&w, pre);
    const std::string& text = texts[n % 2];
    const Bytes prefix = {uint8_t(text.size()), uint8_t(text.size() >> 8)};
    write("gguf", "gpt2-vocab-" + std::to_string(n), w.serialize());
    write("tokenizer", "gpt2-" + std::to_string(n++),
          Prefixed(Prefixed(prefix, Bytes(text.begin(), text.end())), w.serialize()));
  }

  {
    GgufWriter w;
    WordPieceVocab(&w);
    const std::string& text = texts[1];
    const Bytes prefix = {uint8_t(text.size()), uint8_t(text.size() >> 8)};
    write("tokenizer", "bert-0", Prefixed(Prefixed(prefix, Bytes(text.begin(), text.end())), w.serialize()));
  }

  // dequantize: two rows of two blocks of each type, options walking rows
  // and clip modes.
  for (int i = 0; i < kTensorTypeCount; ++i) {
    const TensorTypeInfo& t = kTensorTypes[i];
    const Bytes blocks = Blocks(t.type, 2, 2 * t.block_size, &rng);
    write("dequantize", t.name, Prefixed({uint8_t(i), uint8_t(1 | (i % 4) << 2)}, blocks));
  }
  if (!ok) {
    std::fprintf(stderr, "make_corpus: cannot write under %s (do the target folders exist?)\n", dir.c_str());
    return 1;
  }
  return 0;
}
