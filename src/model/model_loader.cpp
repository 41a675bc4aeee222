#include "model/model_loader.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "format/llama2c.h"
#include "kernels/matmul.h"
#include "kernels/packed_weights.h"
#include "model/architecture.h"
#include "model/llama_config.h"
#include "runtime/decimal_text.h"
#include "runtime/fresh_pages.h"
#include "tokenizer/vocab.h"

namespace nibble {
namespace {

// A byte buffer's bytes (ModelLoader keeps them in strings: model_loader.h).
const uint8_t* bytes_of(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// 2.46 GiB
std::string gib(uint64_t bytes) { return decimal_text(double(bytes) / double(1ull << 30), 2) + " GiB"; }

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + integer_text(shape[i]);
  return s + "]";
}

}  // namespace

ModelLoader::ModelLoader(const LoadOptions& options, uint64_t file_size)
    : options_(options), file_size_(file_size),
      header_retry_at_(size_t(std::min<uint64_t>(uint64_t(4) << 20, file_size / 16))), model_(new Model) {
  const TensorTypeInfo* weights = tensor_type_info(options.weights);
  if (weights == nullptr || !weights->holds_weights())
    failed_ = InvalidArgument("matrices cannot be held as " + std::string(weights ? weights->name : "an unknown type") +
                              "; use one of " + tensor_type_names(&TensorTypeInfo::holds_weights, false));
}

ModelLoader::~ModelLoader() = default;

Status ModelLoader::feed(const uint8_t* data, size_t size) {
  if (!failed_.ok()) return failed_;
  if (fed_ + size > file_size_) {
    failed_ = OutOfRange("more bytes were fed than the file size given (" + integer_text(file_size_) + ")");
    return failed_;
  }
  const uint64_t offset = fed_;
  fed_ += size;
  Status s;
  if (planned_) {
    s = consume(data, size, offset);
  } else {
    if (header_.empty()) header_.reserve(header_retry_at_);  // not copied as it grows to the first try
    header_.append(reinterpret_cast<const char*>(data), size);
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
    if (header_.size() < header_retry_at_ && fed_ < file_size_) return Status::Ok();
    Status s = GgufFile::Parse(bytes_of(header_), header_.size(), file_size_, &file, &need_more);
    if (!s.ok()) {
      if (!need_more || fed_ >= file_size_) return s;
      // (the parse is final once kGgufMaxHeaderBytes are at hand)
      header_retry_at_ = size_t(std::min<uint64_t>(uint64_t(header_.size()) * 2, kGgufMaxHeaderBytes));
      return Status::Ok();
    }
    NIBBLE_RETURN_IF_ERROR(plan_gguf(file));
  } else {
    NIBBLE_RETURN_IF_ERROR(plan_llama2c());
    if (!planned_) return Status::Ok();  // header not complete yet
  }
  std::string buffered;
  buffered.swap(header_);
  return consume(bytes_of(buffered), buffered.size(), 0);
}

Status ModelLoader::plan_gguf(GgufFile& file) {
  ModelInfo& info = model_->info;
  info.format = "gguf";
  NIBBLE_RETURN_IF_ERROR(file.get_string("general.architecture", &info.architecture));
  const Architecture* arch = find_architecture(*options_.architectures, info.architecture);
  if (!arch) {
    std::string known;
    for (const Architecture& a : *options_.architectures) known += (known.empty() ? "" : ", ") + a.name;
    return FormatError("model architecture '" + info.architecture +
                       "' (general.architecture) is not supported: nibble runs " + known);
  }
  NIBBLE_RETURN_IF_ERROR(check_row(*arch));
  model_->architecture = *arch;
  if (file.find("general.name")) file.get_string("general.name", &info.name);
  NIBBLE_RETURN_IF_ERROR(config_from_gguf(file, *arch, &model_->config));
  vocab_.reset(new Vocab);
  NIBBLE_RETURN_IF_ERROR(take_vocab_from_gguf(&file, vocab_.get()));
  if (file.find(kRotationKey)) {
    int64_t block = 0;
    NIBBLE_RETURN_IF_ERROR(file.get_int(kRotationKey, &block));
    if (block != kRotationBlock)
      return FormatError(std::string(kRotationKey) + " is " + integer_text(block) + "; nibble rotates by blocks of " +
                         integer_text(kRotationBlock));
    file_rotated_ = true;
  }
  if (file.find(kSmoothingKey)) {
    int64_t smoothed = 0;
    NIBBLE_RETURN_IF_ERROR(file.get_int(kSmoothingKey, &smoothed));
    info.smoothed_inputs = smoothed != 0;
  }
  file_tensors_ = file.tensors();
  for (const GgufTensorInfo& t : file_tensors_) {
    int layer = -1;
    const TensorSpec* spec = match_tensor(*arch, t.name, &layer);
    // As llama.cpp does: a tensor the forward pass would not use means the
    // file is of a variant it does not run, and ignoring it would give wrong
    // logits.
    if (!spec)
      return FormatError("tensor " + t.name + " is not part of the '" + arch->name +
                         "' architecture as nibble runs it; the file is of a variant nibble does not support");
    plan_.push_back({t.name, t.type, t.shape, t.offset, t.bytes, spec, layer, {}, {}});
    for (int basis = 0; basis < 2; ++basis) {  // the input's shift, then its low-rank basis
      const std::string key = (basis ? kBasisKeyPrefix : kShiftKeyPrefix) + t.name;
      const std::vector<double>* values = nullptr;
      if (!file.find(key)) continue;
      NIBBLE_RETURN_IF_ERROR(file.get_floats(key, &values));
      if (!std::all_of(values->begin(), values->end(), [](double v) { return std::isfinite(v); }))
        return FormatError(key + " holds a NaN or infinite value");
      (basis ? plan_.back().input_basis : plan_.back().input_shift).assign(values->begin(), values->end());
    }
  }
  // The tokenizer now, while the tensors' bytes are on their way, rather than
  // after the last one (its maps of a 150k-token vocabulary take ~0.1 s).
  NIBBLE_RETURN_IF_ERROR(make_tokenizer());
  return finish_plan();
}

Status ModelLoader::make_tokenizer() {
  const int64_t vocab_size = model_->config.vocab_size;
  if (int64_t(vocab_->tokens.size()) != vocab_size)
    return FormatError("the tokenizer has " + integer_text(vocab_->tokens.size()) + " tokens but the model's vocabulary is " +
                       integer_text(vocab_size));
  model_->info.tokenizer = tokenizer_model_name(vocab_->kind);
  // (vocab_ is a reader's, validated: take_vocab_from_gguf, vocab_from_llama2c.)
  NIBBLE_RETURN_IF_ERROR(Tokenizer::CreateValidated(std::move(*vocab_), &model_->tokenizer));
  vocab_.reset();
  return Status::Ok();
}

Status ModelLoader::finish_plan() {
  LlamaConfig& c = model_->config;
  // Every tensor checked against the hyperparameters, then in file order.
  for (const PlannedTensor& t : plan_) {
    if (t.layer >= c.n_layers)
      return FormatError("tensor " + t.name + " names layer " + integer_text(t.layer) + " but the model has " +
                         integer_text(c.n_layers));
    const std::vector<int64_t> want = expected_shape(*t.spec, c);
    if (t.shape != want)
      return FormatError("tensor " + t.name + " has shape " + shape_text(t.shape) + " but the hyperparameters say " +
                         shape_text(want));
  }
  // (Names are unique: the GGUF reader refuses a repeated one, and a
  // llama2.c checkpoint names each of its tensors once.)
  std::sort(plan_.begin(), plan_.end(), [](const PlannedTensor& a, const PlannedTensor& b) { return a.offset < b.offset; });
  // What the file stores its matrices as.
  std::string kind;
  for (const PlannedTensor& t : plan_) {
    if (t.shape.size() != 2) continue;
    const std::string name = block_traits(t.type) ? block_traits(t.type)->name : "?";
    kind = kind.empty() || kind == name ? name : "mixed";
  }
  model_->info.file_weight_type = kind;
  tied_output_ = std::none_of(plan_.begin(), plan_.end(),
                              [](const PlannedTensor& t) { return t.spec->slot == TensorSlot::kOutput; });
  if (remedy_options_.any()) {
    if (file_rotated_ && remedy_options_.rotate)
      return InvalidArgument("the file's matrices already take rotated inputs; load it without the rotation remedy");
    if (std::any_of(plan_.begin(), plan_.end(),
                    [](const PlannedTensor& t) { return !t.input_shift.empty() || !t.input_basis.empty(); }))
      return InvalidArgument("the file's matrices already shift their inputs (a remedied file); load it without a remedy");
    remedy_.reset(new RemedyPlan);
    NIBBLE_RETURN_IF_ERROR(plan_remedy_(remedy_options_, options_.importance, model_->architecture, c,
                                        tied_output_, remedy_.get()));
  }
  model_->info.rotated_inputs = file_rotated_ || remedy_options_.rotate;
  model_->info.smoothed_inputs = model_->info.smoothed_inputs || remedy_options_.smooth;
  NIBBLE_RETURN_IF_ERROR(check_memory());  // before any tensor is allocated
  // The heap the tensors will take (the vocabulary is in already), grown in
  // one step rather than tensor by tensor, for touch_ahead().
  fresh_from_ = heap_break();
  fresh_end_ = grow_heap_for(memory_need().held - header_.size());
  placed_.assign(plan_.size(), false);
  weights_.layers.resize(size_t(c.n_layers));
  planned_ = true;
  return Status::Ok();
}

Status ModelLoader::consume(const uint8_t* data, size_t size, uint64_t offset) {
  while (size > 0 && next_ < plan_.size()) {
    const PlannedTensor& t = plan_[next_];
    const uint64_t at = t.offset + received_;     // next byte this tensor needs
    if (offset + size <= at) return Status::Ok();  // all of it lies before
    if (offset < at) {
      const uint64_t skip = at - offset;
      data += skip;
      size -= size_t(skip);
      offset = at;
    }
    const size_t take = size_t(std::min<uint64_t>(size, t.bytes - received_));
    if (received_ == 0) NIBBLE_RETURN_IF_ERROR(start_streamed(t));
    if (streamed_) {
      NIBBLE_RETURN_IF_ERROR(stream_bytes(t, data, take));
    } else if (received_ == 0 && take == t.bytes) {
      NIBBLE_RETURN_IF_ERROR(place_tensor(t, data));  // the whole tensor is in this chunk: no staging copy
    } else {
      if (received_ == 0) staging_.reserve(size_t(t.bytes));
      staging_.append(reinterpret_cast<const char*>(data), take);
      if (staging_.size() == t.bytes) NIBBLE_RETURN_IF_ERROR(place_tensor(t, bytes_of(staging_)));
    }
    data += take;
    size -= take;
    offset += take;
    received_ += take;
    if (received_ < t.bytes) return Status::Ok();
    std::string().swap(staging_);  // free it before the next tensor
    streamed_ = nullptr;
    received_ = 0;
    placed_[next_] = true;
    ++next_;
  }
  return Status::Ok();
}

}  // namespace nibble

namespace nibble {

bool ModelLoader::keeps_file_type(const PlannedTensor& t) const {
  const BlockTraits* traits = block_traits(t.type);
  return traits->is_quantized && traits->has_kernels() && options_.weights != TensorType::F32;
}

bool ModelLoader::weighs_by_importance(const PlannedTensor& t) const {
  return options_.importance != nullptr &&
         !(remedy_options_.rotate && takes_rotated_input(t.spec->slot, t.shape[0], tied_output_));
}

TensorType ModelLoader::chosen_type(const PlannedTensor& t) const {
  if (options_.pure) return options_.mix->base;
  return options_.mix ? quant_mix_type(*options_.mix, t.spec->slot, t.layer, t.shape[0], model_->architecture.name,
                                       model_->config, tied_output_, weighs_by_importance(t))
                      : options_.weights;
}

// What placing each tensor allocates, in convert_matrix's and place_tensor's
// steps: the model keeps `held`; `passing` is freed once the tensor is in
// (its staging copy, the f32 widening, the blocks before packing).
ModelLoader::MemoryNeed ModelLoader::memory_need() const {
  MemoryNeed need;
  need.held = header_.size();  // the vocabulary, about the size of the header
  uint64_t passing_most = 0;
  for (const PlannedTensor& t : plan_) {
    uint64_t passing = t.bytes;  // staged whole unless it arrives in one chunk
    if (t.shape.size() != 2) {
      need.held += uint64_t(t.shape[0]) * sizeof(float);
    } else if (keeps_file_type(t)) {
      need.held += packed_bytes(t.type, t.shape[1], t.shape[0]);
    } else {
      const int64_t K = t.shape[0], N = t.shape[1];
      const TensorType target = fallback_type(chosen_type(t), K);
      if (t.type != TensorType::F32 || remedy_options_.any()) passing += uint64_t(N) * uint64_t(K) * sizeof(float);
      if (target != TensorType::F32) passing += uint64_t(N) * row_size(target, K);
      need.held += packed_bytes(target, N, K);
    }
    passing_most = std::max(passing_most, passing);
  }
  need.passing = passing_most;
  return need;
}

Status ModelLoader::check_memory() const {
  if (options_.memory_limit == 0) return Status::Ok();
  const MemoryNeed need = memory_need();
  const uint64_t free = options_.memory_limit - std::min(options_.memory_in_use, options_.memory_limit);
  if (need.held + need.passing <= free) return Status::Ok();
  const TensorTypeInfo* weights = tensor_type_info(options_.weights);
  const std::string as = options_.mix ? std::string("the ") + options_.mix->name + " mix" : weights->name;
  return ResourceError("the model needs " + gib(need.held + need.passing) + " of memory to load (" + gib(need.held) +
                       " held with its matrices as " + as + ", plus " + gib(need.passing) +
                       " while converting), but the heap is limited to " + gib(options_.memory_limit) + " (" +
                       gib(free) + " free); load a smaller model or a more compact weights type");
}

Status ModelLoader::convert_matrix(const PlannedTensor& t, const uint8_t* data, PackedWeights* out) {
  const int64_t K = t.shape[0];
  NIBBLE_RETURN_IF_ERROR(convert_matrix_values(t, data, out));
  out->set_rotated_input(model_->info.rotated_inputs && takes_rotated_input(t.spec->slot, K, tied_output_));
  return Status::Ok();
}

Status ModelLoader::convert_matrix_values(const PlannedTensor& t, const uint8_t* data, PackedWeights* out) {
  const int64_t K = t.shape[0], N = t.shape[1];
  ModelInfo& info = model_->info;
  const BlockTraits* traits = block_traits(t.type);
  if (!traits) return FormatError("tensor " + t.name + " has a type nibble cannot read");
  if (keeps_file_type(t)) {
    if (remedy_)
      return InvalidArgument("tensor " + t.name + " is stored as " + traits->name +
                             "; the W4A4 remedies fold into float weights: start from an F32 or F16 file");
    return PackedWeights::Pack(t.type, data, size_t(t.bytes), N, K, out);  // already compact: keep as is
  }

  // Everything else goes through f32 first (a copy when a remedy changes it).
  std::vector<float> widened;
  const float* values = reinterpret_cast<const float*>(data);
  if (t.type != TensorType::F32 || remedy_) {
    widened.resize(size_t(N * K));
    const size_t row_bytes = row_size(t.type, K);
    for (int64_t r = 0; r < N; ++r) traits->dequantize(data + size_t(r) * row_bytes, &widened[size_t(r * K)], K);
    if (remedy_) remedy_->apply_to_matrix(t.spec->slot, t.layer, N, K, widened.data());
    values = widened.data();
  }
  const TensorType chosen = chosen_type(t);
  const BlockTraits* target = block_traits(fallback_type(chosen, K));
  if (target->type != chosen) {
    // As llama.cpp does, a row length the blocks cannot tile falls back to a
    // wider type; the rest of the model keeps its types.
    info.fallbacks.push_back({t.name, target->name, "row length " + integer_text(K) + " is not a multiple of " +
                                                        integer_text(block_traits(chosen)->block_size) +
                                                        ", the block size of " + block_traits(chosen)->name});
  }
  if (target->type == TensorType::F32)
    return PackedWeights::Pack(TensorType::F32, values, size_t(N * K) * sizeof(float), N, K, out);
  const size_t row_bytes = row_size(target->type, K);
  std::vector<uint8_t> blocks(row_bytes * size_t(N));
  QuantizeOptions q;
  q.clip = options_.clip;
  std::vector<float> importance;  // [K]
  if (weighs_by_importance(t) && options_.importance->column_weights(t.name, K, &importance)) {
    if (remedy_) remedy_->smooth_importance(t.spec->slot, t.layer, K, importance.data());
    q.importance = importance.data();
    ++info.importance_matrices;
  }
  for (int64_t r = 0; r < N; ++r) target->quantize(values + r * K, &blocks[size_t(r) * row_bytes], K, q);
  return PackedWeights::Pack(target->type, blocks.data(), blocks.size(), N, K, out);
}

// A NaN or infinite block scale would turn every logit into NaN: blocks
// [first_block, first_block + blocks) of t, at data.
Status ModelLoader::check_scales(const PlannedTensor& t, const uint8_t* data, uint64_t first_block,
                                 uint64_t blocks) const {
  const TensorTypeInfo* type = tensor_type_info(t.type);
  if (type == nullptr || !type->is_quantized) return Status::Ok();
  const int64_t per_row = t.shape[0] / type->block_size;
  const int64_t found = first_non_finite_scale(*type, data, int64_t(blocks));
  if (found < 0) return Status::Ok();
  const int64_t bad = int64_t(first_block) + found;
  return FormatError("tensor " + t.name + " (" + type->name + ") has a NaN or infinite scale in block " +
                     integer_text(bad % per_row) + " of row " + integer_text(bad / per_row) +
                     "; the file is corrupt");
}

// A matrix that keeps its file's type is packed as its rows arrive
// (streamed_); anything else is staged whole (place_tensor).
Status ModelLoader::start_streamed(const PlannedTensor& t) {
  const SlotRef slot = slot_ref(&weights_, t.spec->slot, t.layer);
  if (!slot.matrix || !block_traits(t.type) || !keeps_file_type(t) || remedy_ || !PackedWeights::packs_in_pieces(t.type))
    return Status::Ok();  // staged whole: place_tensor reports what is wrong with it
  const int64_t K = t.shape[0], N = t.shape[1];
  model_->info.parameters += N * K;
  NIBBLE_RETURN_IF_ERROR(PackedWeights::StartPacking(t.type, N, K, slot.matrix));
  slot.matrix->set_rotated_input(model_->info.rotated_inputs && takes_rotated_input(t.spec->slot, K, tied_output_));
  streamed_ = slot.matrix;
  streamed_bytes_ = 0;
  streamed_touched_ = 0;
  return Status::Ok();
}

// First the rest of the matrix being packed, then the heap above the break,
// which the next tensors take.
bool ModelLoader::touch_ahead(size_t budget) {
  if (!planned_ || !failed_.ok()) return false;
  bool more = false;
  if (streamed_) {
    const int64_t rows = int64_t(streamed_bytes_ / row_size(streamed_->type(), streamed_->cols()));
    size_t rest = 0;
    uint8_t* unpacked = streamed_->unpacked_part(rows, &rest);
    const size_t written = streamed_->bytes() - rest;  // offsets into the buffer
    const size_t from = std::max(written, streamed_touched_);
    const size_t n = std::min(budget, streamed_->bytes() - from);
    touch_pages(unpacked + (from - written), n);
    streamed_touched_ = from + n;
    budget -= n;
    more = streamed_touched_ < streamed_->bytes();
  }
  const uintptr_t from = std::max(fresh_from_, heap_break());
  const uintptr_t end = std::max(from, fresh_end_);
  const size_t n = std::min<size_t>(budget, end - from);
  touch_pages(reinterpret_cast<uint8_t*>(from), n);
  fresh_from_ = from + n;
  return more || fresh_from_ < fresh_end_;
}

// The next `size` bytes of the streamed matrix t: whole row groups are
// packed from where they lie, a group cut by the chunk's end waits in
// staging_ for the rest.
Status ModelLoader::stream_bytes(const PlannedTensor& t, const uint8_t* data, size_t size) {
  const uint64_t group_bytes = uint64_t(kPackRows) * row_size(t.type, t.shape[0]);
  if (!staging_.empty()) {
    const uint64_t group = std::min(group_bytes, t.bytes - streamed_bytes_);  // the last may be short
    const size_t take = size_t(std::min<uint64_t>(size, group - staging_.size()));
    staging_.append(reinterpret_cast<const char*>(data), take);
    data += take;
    size -= take;
    if (staging_.size() < group) return Status::Ok();
    NIBBLE_RETURN_IF_ERROR(pack_streamed(t, bytes_of(staging_), staging_.size()));
    staging_.clear();
  }
  const uint64_t left = t.bytes - streamed_bytes_;
  const size_t whole = size >= left ? size : size_t(size / group_bytes * group_bytes);
  if (whole > 0) NIBBLE_RETURN_IF_ERROR(pack_streamed(t, data, whole));
  if (whole < size) {
    staging_.reserve(size_t(group_bytes));
    staging_.assign(reinterpret_cast<const char*>(data) + whole, size - whole);
  }
  return Status::Ok();
}

// Whole row groups of the streamed matrix (the last may be short). Their
// scales are checked as they are packed; check_scales() names a bad one.
Status ModelLoader::pack_streamed(const PlannedTensor& t, const uint8_t* data, size_t size) {
  const uint64_t row_bytes = row_size(t.type, t.shape[0]), block_bytes = tensor_type_info(t.type)->block_bytes;
  if (!streamed_->PackRows(int64_t(streamed_bytes_ / row_bytes), data, int64_t(size / row_bytes)))
    NIBBLE_RETURN_IF_ERROR(check_scales(t, data, streamed_bytes_ / block_bytes, size / block_bytes));
  streamed_bytes_ += size;
  return Status::Ok();
}

Status ModelLoader::place_tensor(const PlannedTensor& t, const uint8_t* data) {
  model_->info.parameters += t.shape.size() == 2 ? t.shape[0] * t.shape[1] : t.shape[0];
  const TensorTypeInfo* type = tensor_type_info(t.type);
  if (type != nullptr) NIBBLE_RETURN_IF_ERROR(check_scales(t, data, 0, t.bytes / type->block_bytes));
  const SlotRef slot = slot_ref(&weights_, t.spec->slot, t.layer);
  if (slot.matrix) return convert_matrix(t, data, slot.matrix);
  const BlockTraits* traits = block_traits(t.type);
  if (!traits) return FormatError("tensor " + t.name + " has a type nibble cannot read");
  slot.vector->resize(size_t(t.shape[0]));
  traits->dequantize(data, slot.vector->data(), t.shape[0]);
  if (remedy_) remedy_->apply_to_vector(t.spec->slot, t.layer, t.shape[0], slot.vector->data());
  return Status::Ok();
}

Status ModelLoader::set_importance(const ImportanceMatrix* importance) {
  if (fed_ > 0) return StateError("importance data must be given before the model file");
  options_.importance = importance;
  return Status::Ok();
}

Status ModelLoader::set_remedy(const ActivationRemedy& remedy) {
  if (fed_ > 0) return StateError("the activation remedy must be given before the model file");
  remedy_options_ = remedy;
  plan_remedy_ = &RemedyPlan::Create;
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
    return FormatError("the model file ended early: " + integer_text(fed_) + " of " +
                       integer_text(file_size_) + " bytes arrived");
  for (size_t i = 0; i < plan_.size(); ++i)
    if (!placed_[i]) return FormatError("tensor " + plan_[i].name + " is truncated");

  const LlamaConfig& c = model_->config;
  ModelInfo& info = model_->info;
  // Every required slot filled?
  std::string missing;
  for_each_tensor(model_->architecture, c.n_layers, [&](const TensorSpec& spec, int layer) {
    if (missing.empty() && spec.required && slot_ref(&weights_, spec.slot, layer).empty())
      missing = tensor_name(spec, layer);
  });
  if (!missing.empty()) return FormatError("the model has no tensor " + missing);
  info.tied_output = weights_.output.rows() == 0;

  if (!model_->tokenizer) {  // a llama2.c checkpoint's (a GGUF file's was made with the plan)
    if (tokenizer_file_.empty())
      return InvalidArgument("a llama2.c checkpoint needs its tokenizer file (tokenizer.bin)");
    NIBBLE_RETURN_IF_ERROR(vocab_from_llama2c(tokenizer_file_.data(), tokenizer_file_.size(), c.vocab_size, vocab_.get()));
    std::vector<uint8_t>().swap(tokenizer_file_);
    NIBBLE_RETURN_IF_ERROR(make_tokenizer());
  }

  info.file_bytes = file_size_;
  // What the matrices are now (a layer's f32 fallbacks not counted, unless
  // f32 was asked for).
  std::string kind;
  for_each_tensor(model_->architecture, c.n_layers, [&](const TensorSpec& spec, int layer) {
    const SlotRef slot = slot_ref(&weights_, spec.slot, layer);
    if (!slot.matrix || slot.empty()) return;
    const TensorType type = slot.matrix->type();
    if (is_layer_slot(spec.slot) && type == TensorType::F32 && options_.weights != TensorType::F32) return;
    const std::string name = block_traits(type)->name;
    kind = kind.empty() || kind == name ? name : "mixed";
  });
  info.weight_type = kind;
  NIBBLE_RETURN_IF_ERROR(set_input_shifts());
  model_->mix = options_.mix;
  model_->llama.reset(new LlamaModel(c, model_->architecture.forward, std::move(weights_)));
  info.loaded_bytes = model_->llama->weight_bytes();
  *out = std::move(model_);
  return Status::Ok();
}

}  // namespace nibble

namespace nibble {
namespace {

// The slot each of run.c's weights fills.
TensorSlot slot_of(Llama2cWeight weight) {
  switch (weight) {
    case Llama2cWeight::kTokenEmbeddingTable: return TensorSlot::kTokenEmbedding;
    case Llama2cWeight::kRmsAttWeight: return TensorSlot::kAttnNorm;
    case Llama2cWeight::kWq: return TensorSlot::kAttnQ;
    case Llama2cWeight::kWk: return TensorSlot::kAttnK;
    case Llama2cWeight::kWv: return TensorSlot::kAttnV;
    case Llama2cWeight::kWo: return TensorSlot::kAttnOutput;
    case Llama2cWeight::kRmsFfnWeight: return TensorSlot::kFfnNorm;
    case Llama2cWeight::kW1: return TensorSlot::kFfnGate;
    case Llama2cWeight::kW2: return TensorSlot::kFfnDown;
    case Llama2cWeight::kW3: return TensorSlot::kFfnUp;
    case Llama2cWeight::kRmsFinalWeight: return TensorSlot::kOutputNorm;
    case Llama2cWeight::kWcls: return TensorSlot::kOutput;
  }
  return TensorSlot::kOutput;
}

}  // namespace

Status ModelLoader::plan_llama2c() {
  constexpr size_t kHeaderBytes = 7 * sizeof(int32_t);
  if (header_.size() < kHeaderBytes && fed_ < file_size_) return Status::Ok();  // wait for the header
  Llama2cCheckpoint checkpoint;
  Status s = ParseLlama2cCheckpoint(bytes_of(header_), header_.size(), file_size_, &checkpoint);
  if (!s.ok())
    return FormatError("not a GGUF file (no 'GGUF' magic) nor a llama2.c checkpoint: " + s.message());
  ModelInfo& info = model_->info;
  info.format = "llama2c";
  model_->architecture = *find_architecture(builtin_architectures(), "llama");
  info.architecture = model_->architecture.name;
  LlamaConfig& c = model_->config;
  c.dim = checkpoint.dim;
  c.hidden_dim = checkpoint.hidden_dim;
  c.n_layers = checkpoint.n_layers;
  c.n_heads = checkpoint.n_heads;
  c.n_kv_heads = checkpoint.n_kv_heads;
  c.vocab_size = checkpoint.vocab_size;
  c.context_length = checkpoint.seq_len;
  c.head_dim = c.value_dim = checkpoint.head_size();
  c.rope_dim = c.head_dim;  // llama2.c: RoPE over whole heads, base 10000, eps 1e-5
  NIBBLE_RETURN_IF_ERROR(c.validate());
  for (const Llama2cTensor& t : checkpoint.tensors) {
    const TensorSpec* spec = spec_of(model_->architecture, slot_of(t.weight));
    file_tensors_.push_back({tensor_name(*spec, t.layer), t.shape, TensorType::F32, t.offset, t.bytes});
    plan_.push_back({file_tensors_.back().name, TensorType::F32, t.shape, t.offset, t.bytes, spec, t.layer, {}, {}});
  }
  return finish_plan();
}

// The matrices' input shifts (PackedWeights::input_shift), from the file's
// keys or the remedy, once their weights are in: the correction W·shift is
// computed from them. The file holds one copy per matrix; the matrices
// reading one input share one vector (share_input_shift); the same for the
// low-rank bases (PackedWeights::input_basis).
Status ModelLoader::set_input_shifts() {
  weights_.input_shifts.reserve(plan_.size());  // at most one per matrix
  weights_.input_bases.reserve(plan_.size());
  for (PlannedTensor& t : plan_) {  // (every matrix is one of the file's tensors)
    const SlotRef slot = slot_ref(&weights_, t.spec->slot, t.layer);
    if (!slot.matrix || slot.empty()) continue;
    const size_t K = size_t(slot.matrix->cols());
    const std::vector<float>& shift = remedy_ ? remedy_->input_shift(t.spec->slot, t.layer) : t.input_shift;
    if (!shift.empty()) {
      if (shift.size() != K)
        return FormatError(kShiftKeyPrefix + t.name + " holds " + integer_text(shift.size()) +
                           " values; the matrix's rows hold " + integer_text(K));
      NIBBLE_RETURN_IF_ERROR(share_input_shift(shift, &weights_, slot.matrix));
      model_->info.shifted_inputs = true;
    }
    // The low-rank basis: only from a file (the remedy adds it after
    // quantizing, LowRankCollector in model/importance.h).
    const size_t values = t.input_basis.size();
    if (values == 0) continue;
    if (values % K != 0 || values > kMaxBasisRank * K)
      return FormatError(kBasisKeyPrefix + t.name + " holds " + integer_text(values) + " values, not r rows of " +
                         integer_text(K) + " (r up to " + integer_text(kMaxBasisRank) + ")");
    NIBBLE_RETURN_IF_ERROR(share_input_basis(t.input_basis, &weights_, slot.matrix));
    model_->info.low_rank = std::max(model_->info.low_rank, int(values / K));
  }
  return Status::Ok();
}

}  // namespace nibble
