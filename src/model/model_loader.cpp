#include "model/model_loader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "kernels/packed_weights.h"
#include "format/llama2c.h"
#include "model/llama_config.h"
#include "tokenizer/vocab.h"

namespace nibble {
namespace {

// Which slot of the weights a GGUF tensor name fills.
enum class Slot { kNone, kEmbedding, kOutputNorm, kOutput, kAttnNorm, kFfnNorm, kQ, kK, kV, kO, kGate, kDown, kUp };

Slot slot_of(const std::string& name, int* layer) {
  if (name == "token_embd.weight") return Slot::kEmbedding;
  if (name == "output_norm.weight") return Slot::kOutputNorm;
  if (name == "output.weight") return Slot::kOutput;
  int l = -1, used = 0;
  char field[32] = {0};
  if (std::sscanf(name.c_str(), "blk.%d.%31[a-z_].weight%n", &l, field, &used) != 2 ||
      size_t(used) != name.size() || l < 0)
    return Slot::kNone;
  *layer = l;
  static const struct { const char* field; Slot slot; } kFields[] = {
      {"attn_norm", Slot::kAttnNorm}, {"ffn_norm", Slot::kFfnNorm}, {"attn_q", Slot::kQ},
      {"attn_k", Slot::kK},           {"attn_v", Slot::kV},         {"attn_output", Slot::kO},
      {"ffn_gate", Slot::kGate},      {"ffn_down", Slot::kDown},    {"ffn_up", Slot::kUp},
  };
  for (const auto& f : kFields)
    if (std::strcmp(field, f.field) == 0) return f.slot;
  return Slot::kNone;
}

// The GGUF shape (row length first) a slot must have.
std::vector<int64_t> expected_shape(Slot slot, const LlamaConfig& c) {
  switch (slot) {
    case Slot::kEmbedding: case Slot::kOutput: return {c.dim, c.vocab_size};
    case Slot::kOutputNorm: case Slot::kAttnNorm: case Slot::kFfnNorm: return {c.dim};
    case Slot::kQ: case Slot::kO: return {c.dim, c.dim};
    case Slot::kK: case Slot::kV: return {c.dim, c.kv_dim()};
    case Slot::kGate: case Slot::kUp: return {c.dim, c.hidden_dim};
    case Slot::kDown: return {c.hidden_dim, c.dim};
    case Slot::kNone: break;
  }
  return {};
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

ModelLoader::ModelLoader(const LoadOptions& options, uint64_t file_size)
    : options_(options), file_size_(file_size), model_(new Model) {
  const TensorTypeInfo* weights = tensor_type_info(options.weights);
  if (weights == nullptr || !weights->holds_weights())
    failed_ = InvalidArgument("matrices cannot be held as " + std::string(weights ? weights->name : "an unknown type") +
                              "; use one of " + tensor_type_names(&TensorTypeInfo::holds_weights, false));
}

ModelLoader::~ModelLoader() = default;

Status ModelLoader::feed(const uint8_t* data, size_t size) {
  if (!failed_.ok()) return failed_;
  if (fed_ + size > file_size_) {
    failed_ = OutOfRange("more bytes were fed than the file size given (" + std::to_string(file_size_) + ")");
    return failed_;
  }
  const uint64_t offset = fed_;
  fed_ += size;
  Status s;
  if (planned_) {
    s = consume(data, size, offset);
  } else {
    header_.insert(header_.end(), data, data + size);
    s = parse_header();
  }
  if (!s.ok()) failed_ = s;
  return s;
}

Status ModelLoader::parse_header() {
  if (header_.size() < 4 && fed_ < file_size_) return Status::Ok();
  const bool is_gguf = header_.size() >= 4 && std::memcmp(header_.data(), "GGUF", 4) == 0;
  if (is_gguf) {
    GgufFile file;
    bool need_more = false;
    Status s = GgufFile::Parse(header_.data(), header_.size(), file_size_, &file, &need_more);
    if (!s.ok()) return need_more && fed_ < file_size_ ? Status::Ok() : s;
    NIBBLE_RETURN_IF_ERROR(plan_gguf(file));
  } else {
    NIBBLE_RETURN_IF_ERROR(plan_llama2c());
    if (!planned_) return Status::Ok();  // header not complete yet
  }
  std::vector<uint8_t> buffered;
  buffered.swap(header_);
  return consume(buffered.data(), buffered.size(), 0);
}

Status ModelLoader::plan_gguf(const GgufFile& file) {
  ModelInfo& info = model_->info;
  info.format = "gguf";
  NIBBLE_RETURN_IF_ERROR(file.get_string("general.architecture", &info.architecture));
  if (info.architecture != "llama")
    return FormatError("model architecture '" + info.architecture +
                       "' is not supported: nibble runs LLaMA-family models (general.architecture = llama)");
  if (file.find("general.name")) file.get_string("general.name", &info.name);
  NIBBLE_RETURN_IF_ERROR(config_from_gguf(file, &model_->config));
  vocab_.reset(new Vocab);
  NIBBLE_RETURN_IF_ERROR(vocab_from_gguf(file, vocab_.get()));
  for (const GgufTensorInfo& t : file.tensors())
    plan_.push_back({t.name, t.type, t.shape, t.offset, t.bytes});
  return finish_plan();
}

Status ModelLoader::finish_plan() {
  LlamaConfig& c = model_->config;
  // Keep the tensors the model uses, checked against the hyperparameters.
  std::vector<PlannedTensor> used;
  for (PlannedTensor& t : plan_) {
    int layer = -1;
    const Slot slot = slot_of(t.name, &layer);
    if (slot == Slot::kNone) continue;  // e.g. rope_freqs: not needed
    if (layer >= c.n_layers)
      return FormatError("tensor " + t.name + " names layer " + std::to_string(layer) + " but the model has " +
                         std::to_string(c.n_layers));
    const std::vector<int64_t> want = expected_shape(slot, c);
    if (t.shape != want)
      return FormatError("tensor " + t.name + " has shape " + shape_text(t.shape) + " but the hyperparameters say " +
                         shape_text(want));
    used.push_back(std::move(t));
  }
  std::sort(used.begin(), used.end(), [](const PlannedTensor& a, const PlannedTensor& b) { return a.offset < b.offset; });
  for (size_t i = 1; i < used.size(); ++i)
    if (used[i].offset == used[i - 1].offset && used[i].name == used[i - 1].name)
      return FormatError("tensor " + used[i].name + " appears twice");
  // What the file stores its matrices as.
  std::string kind;
  for (const PlannedTensor& t : used) {
    if (t.shape.size() != 2) continue;
    const std::string name = block_traits(t.type) ? block_traits(t.type)->name : "?";
    kind = kind.empty() || kind == name ? name : "mixed";
  }
  model_->info.file_weight_type = kind;
  plan_ = std::move(used);
  placed_.assign(plan_.size(), false);
  weights_.layers.resize(size_t(c.n_layers));
  planned_ = true;
  return Status::Ok();
}

Status ModelLoader::consume(const uint8_t* data, size_t size, uint64_t offset) {
  while (size > 0 && next_ < plan_.size()) {
    const PlannedTensor& t = plan_[next_];
    const uint64_t at = t.offset + staging_.size();  // next byte this tensor needs
    if (offset + size <= at) return Status::Ok();     // all of it lies before
    if (offset < at) {
      const uint64_t skip = at - offset;
      data += skip;
      size -= size_t(skip);
      offset = at;
    }
    const size_t want = size_t(t.bytes - staging_.size());
    if (staging_.empty() && size >= want) {
      // The whole tensor is in this chunk: no staging copy.
      NIBBLE_RETURN_IF_ERROR(place_tensor(t, data));
    } else {
      const size_t take = std::min(size, want);
      if (staging_.empty()) staging_.reserve(size_t(t.bytes));
      staging_.insert(staging_.end(), data, data + take);
      data += take;
      size -= take;
      offset += take;
      if (staging_.size() < t.bytes) return Status::Ok();
      NIBBLE_RETURN_IF_ERROR(place_tensor(t, staging_.data()));
      std::vector<uint8_t>().swap(staging_);  // free it before the next tensor
      placed_[next_] = true;
      ++next_;
      continue;
    }
    data += want;
    size -= want;
    offset += want;
    placed_[next_] = true;
    ++next_;
  }
  return Status::Ok();
}

}  // namespace nibble

namespace nibble {

Status ModelLoader::convert_matrix(const PlannedTensor& t, const uint8_t* data, PackedWeights* out) {
  const int64_t K = t.shape[0], N = t.shape[1];
  ModelInfo& info = model_->info;
  const BlockTraits* traits = block_traits(t.type);
  if (!traits) return FormatError("tensor " + t.name + " has a type nibble cannot read");
  const bool runs_compact = traits->is_quantized && traits->has_kernels();
  if (runs_compact && options_.weights != TensorType::F32)
    return PackedWeights::Pack(t.type, data, size_t(t.bytes), N, K, out);  // already compact: keep as is

  // Everything else goes through f32 first.
  std::vector<float> widened;
  const float* values = reinterpret_cast<const float*>(data);
  if (t.type != TensorType::F32) {
    widened.resize(size_t(N * K));
    const size_t row_bytes = row_size(t.type, K);
    for (int64_t r = 0; r < N; ++r) traits->dequantize(data + size_t(r) * row_bytes, &widened[size_t(r * K)], K);
    values = widened.data();
  }
  const BlockTraits* target = block_traits(options_.weights);
  if (K % target->block_size != 0) {
    // As llama.cpp does, a row length the blocks cannot tile falls back to a
    // wider type; the rest of the model stays INT4.
    info.fallbacks.push_back({t.name, "f32", "row length " + std::to_string(K) + " is not a multiple of " +
                                                 std::to_string(target->block_size)});
    target = block_traits(TensorType::F32);
  }
  if (target->type == TensorType::F32)
    return PackedWeights::Pack(TensorType::F32, values, size_t(N * K) * sizeof(float), N, K, out);
  const size_t row_bytes = row_size(target->type, K);
  std::vector<uint8_t> blocks(row_bytes * size_t(N));
  QuantizeOptions q;
  q.clip = options_.clip;
  for (int64_t r = 0; r < N; ++r) target->quantize(values + r * K, &blocks[size_t(r) * row_bytes], K, q);
  return PackedWeights::Pack(target->type, blocks.data(), blocks.size(), N, K, out);
}

Status ModelLoader::place_tensor(const PlannedTensor& t, const uint8_t* data) {
  int layer = -1;
  const Slot slot = slot_of(t.name, &layer);
  const int64_t n = t.shape[0];
  auto vector_out = [&](std::vector<float>* out) -> Status {
    const BlockTraits* traits = block_traits(t.type);
    if (!traits) return FormatError("tensor " + t.name + " has a type nibble cannot read");
    out->resize(size_t(n));
    traits->dequantize(data, out->data(), n);
    return Status::Ok();
  };
  model_->info.parameters += t.shape.size() == 2 ? t.shape[0] * t.shape[1] : t.shape[0];
  LlamaLayer* l = layer >= 0 ? &weights_.layers[size_t(layer)] : nullptr;
  switch (slot) {
    case Slot::kEmbedding: return convert_matrix(t, data, &weights_.token_embd);
    case Slot::kOutput: return convert_matrix(t, data, &weights_.output);
    case Slot::kOutputNorm: return vector_out(&weights_.output_norm);
    case Slot::kAttnNorm: return vector_out(&l->attn_norm);
    case Slot::kFfnNorm: return vector_out(&l->ffn_norm);
    case Slot::kQ: return convert_matrix(t, data, &l->wq);
    case Slot::kK: return convert_matrix(t, data, &l->wk);
    case Slot::kV: return convert_matrix(t, data, &l->wv);
    case Slot::kO: return convert_matrix(t, data, &l->wo);
    case Slot::kGate: return convert_matrix(t, data, &l->gate);
    case Slot::kDown: return convert_matrix(t, data, &l->down);
    case Slot::kUp: return convert_matrix(t, data, &l->up);
    case Slot::kNone: break;
  }
  return Status::Ok();
}

Status ModelLoader::set_tokenizer_file(const uint8_t* data, size_t size) {
  if (!failed_.ok()) return failed_;
  vocab_.reset(new Vocab);
  // The vocabulary size comes from the checkpoint; before its header is in,
  // keep the bytes and read them at finish().
  tokenizer_file_.assign(data, data + size);
  return Status::Ok();
}

Status ModelLoader::finish(std::unique_ptr<Model>* out) {
  if (!failed_.ok()) return failed_;
  if (!planned_ || fed_ < file_size_)
    return FormatError("the model file ended early: " + std::to_string(fed_) + " of " +
                       std::to_string(file_size_) + " bytes arrived");
  for (size_t i = 0; i < plan_.size(); ++i)
    if (!placed_[i]) return FormatError("tensor " + plan_[i].name + " is truncated");

  const LlamaConfig& c = model_->config;
  ModelInfo& info = model_->info;
  // Every slot filled?
  auto require = [](bool present, const std::string& name) -> Status {
    return present ? Status::Ok() : FormatError("the model has no tensor " + name);
  };
  NIBBLE_RETURN_IF_ERROR(require(weights_.token_embd.rows() > 0, "token_embd.weight"));
  NIBBLE_RETURN_IF_ERROR(require(!weights_.output_norm.empty(), "output_norm.weight"));
  for (int i = 0; i < c.n_layers; ++i) {
    const LlamaLayer& l = weights_.layers[size_t(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    NIBBLE_RETURN_IF_ERROR(require(!l.attn_norm.empty(), p + "attn_norm.weight"));
    NIBBLE_RETURN_IF_ERROR(require(!l.ffn_norm.empty(), p + "ffn_norm.weight"));
    const std::pair<const PackedWeights*, const char*> mats[] = {
        {&l.wq, "attn_q"}, {&l.wk, "attn_k"}, {&l.wv, "attn_v"}, {&l.wo, "attn_output"},
        {&l.gate, "ffn_gate"}, {&l.down, "ffn_down"}, {&l.up, "ffn_up"}};
    for (const auto& m : mats) NIBBLE_RETURN_IF_ERROR(require(m.first->rows() > 0, p + m.second + ".weight"));
  }
  info.tied_output = weights_.output.rows() == 0;

  if (info.format == "llama2c") {
    if (tokenizer_file_.empty())
      return InvalidArgument("a llama2.c checkpoint needs its tokenizer file (tokenizer.bin)");
    NIBBLE_RETURN_IF_ERROR(vocab_from_llama2c(tokenizer_file_.data(), tokenizer_file_.size(), c.vocab_size, vocab_.get()));
    std::vector<uint8_t>().swap(tokenizer_file_);
  }
  if (int64_t(vocab_->tokens.size()) != c.vocab_size)
    return FormatError("the tokenizer has " + std::to_string(vocab_->tokens.size()) + " tokens but the model's vocabulary is " +
                       std::to_string(c.vocab_size));
  info.tokenizer = vocab_->kind == Vocab::Kind::kBytePairGpt2 ? "gpt2" : "llama";
  NIBBLE_RETURN_IF_ERROR(Tokenizer::Create(std::move(*vocab_), &model_->tokenizer));
  vocab_.reset();

  info.file_bytes = file_size_;
  // What the matrices are now.
  std::string kind;
  auto note = [&kind](const PackedWeights& w) {
    const std::string name = block_traits(w.type())->name;
    kind = kind.empty() || kind == name ? name : "mixed";
  };
  note(weights_.token_embd);
  if (!info.tied_output) note(weights_.output);
  for (const LlamaLayer& l : weights_.layers)
    for (const PackedWeights* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.down, &l.up})
      if (w->type() != TensorType::F32 || options_.weights == TensorType::F32) note(*w);
  info.weight_type = kind;
  model_->llama.reset(new LlamaModel(c, std::move(weights_)));
  info.loaded_bytes = model_->llama->weight_bytes();
  *out = std::move(model_);
  return Status::Ok();
}

}  // namespace nibble

namespace nibble {

Status ModelLoader::plan_llama2c() {
  constexpr size_t kHeaderBytes = 7 * sizeof(int32_t);
  if (header_.size() < kHeaderBytes && fed_ < file_size_) return Status::Ok();  // wait for the header
  Llama2cCheckpoint checkpoint;
  Status s = ParseLlama2cCheckpoint(header_.data(), header_.size(), file_size_, &checkpoint);
  if (!s.ok())
    return FormatError("not a GGUF file (no 'GGUF' magic) nor a llama2.c checkpoint: " + s.message());
  ModelInfo& info = model_->info;
  info.format = "llama2c";
  info.architecture = "llama";
  LlamaConfig& c = model_->config;
  c.dim = checkpoint.dim;
  c.hidden_dim = checkpoint.hidden_dim;
  c.n_layers = checkpoint.n_layers;
  c.n_heads = checkpoint.n_heads;
  c.n_kv_heads = checkpoint.n_kv_heads;
  c.vocab_size = checkpoint.vocab_size;
  c.context_length = checkpoint.seq_len;
  c.head_dim = checkpoint.head_size();
  c.rope_dim = c.head_dim;  // llama2.c: RoPE over whole heads, base 10000, eps 1e-5
  NIBBLE_RETURN_IF_ERROR(c.validate());
  for (const GgufTensorInfo& t : checkpoint.tensors) plan_.push_back({t.name, t.type, t.shape, t.offset, t.bytes});
  return finish_plan();
}

}  // namespace nibble
