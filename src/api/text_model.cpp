// TextModelLoader / TextModel: checks and bookkeeping around src/model.
#include "api/text_model.h"

#include <malloc.h>
#if defined(__EMSCRIPTEN__)
#include <emscripten/heap.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "model/model_writer.h"
#include "runtime/decimal_text.h"
#include "runtime/json_writer.h"

namespace nibble {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1, JS's exact integers
// The KV cache is f32 keys and values: refuse sizes the 4 GB heap cannot hold.
constexpr double kMaxKvCacheBytes = 2.0 * 1024 * 1024 * 1024;
// logits() results: web/ copies them once more in the heap on their way out.
constexpr double kMaxLogitsBytes = 1024.0 * 1024 * 1024;

int64_t float_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

std::string type_name(TensorType type) {
  const BlockTraits* traits = block_traits(type);
  return traits ? traits->name : "?";
}

}  // namespace

Status parse_weight_type(const std::string& name, TensorType* out) {
  const TensorTypeInfo* info = tensor_type_by_name(name.c_str());
  if (info == nullptr || !info->holds_weights())
    return OutOfRange("weights '" + name + "' is not one of " + tensor_type_names(&TensorTypeInfo::holds_weights, true));
  *out = info->type;
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// TextModelLoader

TextModelLoader::TextModelLoader(const std::string& weights, const std::string& mix, bool pure, int clip,
                                 double file_size, bool describe)
    : describe_(describe) {
  LoadOptions options;
  options_status_ = parse_weight_type(weights, &options.weights);
  if (options_status_.ok() && !mix.empty()) {
    options.mix = find_quant_mix(mix);
    if (options.mix == nullptr)
      options_status_ = OutOfRange("mix '" + mix + "' is not one of " + quant_mix_names(true));
  }
  if (options_status_.ok() && pure && options.mix == nullptr) options_status_ = OutOfRange("pure needs a mix");
  options.pure = pure;
  if (options_status_.ok() && clip != 0 && clip != 1)
    options_status_ = OutOfRange("clip mode " + integer_text(clip) + " is not 0 (none) or 1 (mse)");
  if (options_status_.ok() && !(file_size >= 1 && file_size <= kMaxSafeInteger && std::floor(file_size) == file_size))
    options_status_ = OutOfRange("the file size must be a positive whole number of bytes");
  if (!options_status_.ok()) return;
  options.clip = clip == 1 ? ClipMode::kMse : ClipMode::kNone;
#if defined(__EMSCRIPTEN__)
  // wasm32: the heap can grow to -sMAXIMUM_MEMORY (4 GB) and no further; a
  // load that would pass it fails up front instead of aborting the module.
  options.memory_limit = emscripten_get_heap_max();
  options.memory_in_use = heap_bytes_in_use();
#endif
  file_size_ = uint64_t(file_size);
  loader_.reset(new ModelLoader(options, file_size_));
}

TextModelLoader::~TextModelLoader() = default;

ApiStatus TextModelLoader::feed(uintptr_t data, uint32_t n) {
  if (!options_status_.ok()) return ApiStatus::From(options_status_);
  if (finished_) return ApiStatus::From(StateError("the loader already finished"));
  return ApiStatus::From(loader_->feed(reinterpret_cast<const uint8_t*>(data), n));
}

ApiStatus TextModelLoader::set_importance(uintptr_t data, uint32_t n) {
  if (!options_status_.ok()) return ApiStatus::From(options_status_);
  if (finished_) return ApiStatus::From(StateError("the loader already finished"));
  std::unique_ptr<ImportanceMatrix> importance(new ImportanceMatrix);
  Status s = read_imatrix_gguf(reinterpret_cast<const uint8_t*>(data), n, importance.get());
  if (s.ok()) s = loader_->set_importance(importance.get());
  if (!s.ok()) return ApiStatus::From(s);
  importance_ = std::move(importance);
  return ApiStatus();
}

ApiStatus TextModelLoader::set_remedy(int32_t code) {
  if (!options_status_.ok()) return ApiStatus::From(options_status_);
  if (finished_) return ApiStatus::From(StateError("the loader already finished"));
  if (code < 0 || code > 3)
    return ApiStatus::From(OutOfRange("remedy " + integer_text(code) + " is not 0 (none), 1 (rotate), 2 (smooth) or 3 (smooth+rotate)"));
  ActivationRemedy remedy;
  remedy.rotate = (code & 1) != 0;
  remedy.smooth = (code & 2) != 0;
  return ApiStatus::From(loader_->set_remedy(remedy));
}

ApiStatus TextModelLoader::set_tokenizer(uintptr_t data, uint32_t n) {
  if (!options_status_.ok()) return ApiStatus::From(options_status_);
  if (finished_) return ApiStatus::From(StateError("the loader already finished"));
  if (n == 0) return ApiStatus::From(InvalidArgument("the tokenizer file is empty"));
  return ApiStatus::From(loader_->set_tokenizer_file(reinterpret_cast<const uint8_t*>(data), n));
}

ApiStatus TextModelLoader::finish(TextModel& out) {
  if (!options_status_.ok()) return ApiStatus::From(options_status_);
  if (finished_) return ApiStatus::From(StateError("the loader already finished"));
  if (out.loaded()) return ApiStatus::From(StateError("finish() needs an empty TextModel"));
  std::unique_ptr<Model> model;
  Status s = loader_->finish(&model);
  if (!s.ok()) return ApiStatus::From(s);
  finished_ = true;
  if (describe_) out.file_tensors_ = loader_->tensors();
  loader_.reset();  // frees its staging before the caller goes on
  out.model_ = std::move(model);
  return ApiStatus();
}

bool TextModelLoader::touch_ahead(uint32_t budget) {
  return options_status_.ok() && loader_ && !finished_ && loader_->touch_ahead(budget);
}

double TextModelLoader::bytes_fed() const { return loader_ ? double(loader_->bytes_fed()) : double(file_size_); }

// ---------------------------------------------------------------------------
// TextModel

TextModel::TextModel() = default;
TextModel::TextModel(int threads) : pool_(threads > 1 ? new ThreadPool(threads) : nullptr) {}
TextModel::~TextModel() = default;

Status TextModel::check_loaded() const {
  if (!model_) return StateError("no model is loaded in this handle");
  return Status::Ok();
}

int32_t TextModel::vocab_size() const { return model_ ? model_->config.vocab_size : 0; }
int32_t TextModel::context_length() const { return model_ ? model_->config.context_length : 0; }
int32_t TextModel::bos() const { return model_ ? model_->tokenizer->bos() : -1; }
int32_t TextModel::eos() const { return model_ ? model_->tokenizer->eos() : -1; }
int32_t TextModel::prompt_tokens() const { return generator_ ? generator_->prompt_tokens() : 0; }
int32_t TextModel::cached_tokens() const { return generator_ ? generator_->cached_tokens() : 0; }
int32_t TextModel::generated_tokens() const { return generator_ ? generator_->generated_tokens() : 0; }
int32_t TextModel::context() const { return generator_ ? generator_->context() : 0; }

// {format, architecture, name, fileWeightType, weightType, fallbacks: [{tensor,
//  type, reason}], parameters, fp32Bytes, loadedBytes, fileBytes, tiedOutput,
//  tokenizer, vocabSize, contextLength, bos, eos, config: {..., ropeThetaBits,
//  rmsEpsBits (a float's bits)},
//  tensors: [{name, shape, type, fileType?}]}
std::string TextModel::info_json() const {
  if (!model_) return "null";
  const ModelInfo& info = model_->info;
  const LlamaConfig& c = model_->config;
  JsonWriter j;
  j.begin_object();
  j.key("format").string(info.format);
  j.key("architecture").string(info.architecture);
  j.key("name").string(info.name);
  j.key("fileWeightType").string(info.file_weight_type);
  j.key("weightType").string(info.weight_type);
  j.key("fallbacks").begin_array();
  for (const TensorFallback& f : info.fallbacks) {
    j.begin_object().key("tensor").string(f.name).key("type").string(f.type);
    j.key("reason").string(f.reason).end_object();
  }
  j.end_array();
  j.key("parameters").integer(int64_t(info.parameters));
  j.key("fp32Bytes").integer(int64_t(info.parameters) * 4);
  j.key("loadedBytes").integer(int64_t(info.loaded_bytes));
  j.key("fileBytes").integer(int64_t(info.file_bytes));
  j.key("tiedOutput").boolean(info.tied_output);
  j.key("importanceMatrices").integer(info.importance_matrices);
  // W4A4's remedies folded into the weights, on load or by the file's
  // maker, and whether the matrices shift their inputs (smoothing with
  // channel means).
  static const char* const kRemedies[] = {"none",  "smooth",       "rotate",       "smooth+rotate",
                                          "shift", "smooth+shift", "rotate+shift", "smooth+rotate+shift"};
  // (+lowrank: their W4A4 inputs lose lowRank directions before rounding.)
  const int remedy = int(info.smoothed_inputs) | int(info.rotated_inputs) << 1 | int(info.shifted_inputs) << 2;
  j.key("remedy").string(std::string(kRemedies[remedy]) + (info.low_rank ? "+lowrank" : ""));
  j.key("lowRank").integer(info.low_rank);
  j.key("tokenizer").string(info.tokenizer);
  j.key("vocabSize").integer(c.vocab_size);
  j.key("contextLength").integer(c.context_length);
  j.key("bos").integer(model_->tokenizer->bos());
  j.key("eos").integer(model_->tokenizer->eos());
  j.key("config").begin_object();
  j.key("dim").integer(c.dim);
  j.key("hiddenDim").integer(c.hidden_dim);
  j.key("layers").integer(c.n_layers);
  j.key("heads").integer(c.n_heads);
  j.key("kvHeads").integer(c.n_kv_heads);
  j.key("headDim").integer(c.head_dim);
  j.key("ropeDim").integer(c.rope_dim);
  // Floats as their bits (web/ turns them into numbers): formatting them
  // here would take printf into the first download.
  j.key("ropeThetaBits").integer(float_bits(c.rope_theta));
  j.key("rmsEpsBits").integer(float_bits(c.rms_eps));
  j.key("vocabSize").integer(c.vocab_size);
  j.key("contextLength").integer(c.context_length);
  j.end_object();
  // The tensors the model holds, in GGUF naming and file order.
  std::unordered_map<std::string, TensorType> file_types;  // by tensor name
  for (const GgufTensorInfo& t : file_tensors_) file_types.emplace(t.name, t.type);
  j.key("tensors").begin_array();
  for_each_tensor(model_->architecture, c.n_layers, [&](const TensorSpec& spec, int layer) {
    const ConstSlotRef slot = slot_ref(model_->llama->weights(), spec.slot, layer);
    if (slot.empty()) return;  // an optional tensor the model lacks
    const std::string name = tensor_name(spec, layer);
    j.begin_object().key("name").string(name);
    j.key("shape").begin_array();  // GGUF order: row length first
    if (slot.matrix) j.integer(int64_t(slot.matrix->cols())).integer(int64_t(slot.matrix->rows()));
    else j.integer(int64_t(slot.vector->size()));
    j.end_array();
    j.key("type").string(slot.matrix ? type_name(slot.matrix->type()) : std::string("f32"));
    const auto file_type = file_types.find(name);
    if (file_type != file_types.end()) j.key("fileType").string(type_name(file_type->second));
    j.end_object();
  });
  j.end_array();
  j.end_object();
  return j.str();
}

ApiStatus TextModel::start(uintptr_t ids, uint32_t n, int32_t max_tokens, float temperature, int32_t top_k,
                           float top_p, double seed, int32_t precision, int32_t context) {
  Status s = check_loaded();
  if (!s.ok()) return ApiStatus::From(s);
  GenerationOptions options;
  s = precision_from_code(precision, &options.precision);
  if (!s.ok()) return ApiStatus::From(s);
  if (!(temperature >= 0) || !std::isfinite(temperature))
    return ApiStatus::From(OutOfRange("temperature must be a finite number ≥ 0"));
  if (top_k < 0) return ApiStatus::From(OutOfRange("top_k must be ≥ 0 (0: no limit)"));
  if (!(top_p > 0 && top_p <= 1)) return ApiStatus::From(OutOfRange("top_p must be in (0, 1]"));
  if (!(seed >= 0 && seed <= kMaxSafeInteger && std::floor(seed) == seed))
    return ApiStatus::From(OutOfRange("seed must be a whole number from 0 to 2^53 - 1"));
  if (max_tokens < 0) return ApiStatus::From(OutOfRange("max_tokens must be ≥ 0"));
  const LlamaConfig& c = model_->config;
  if (context < 0 || context > c.context_length)
    return ApiStatus::From(OutOfRange("context " + integer_text(context) + " is outside 1.." +
                                      integer_text(c.context_length) + ", the model's context length"));
  if (context == 0) context = c.context_length;
  options.max_tokens = max_tokens;
  options.sampling.temperature = temperature;
  options.sampling.top_k = top_k;
  options.sampling.top_p = top_p;
  options.sampling.seed = uint64_t(seed);
  if (!generator_ || generator_->context() != context) {
    generator_.reset();  // free the old cache first
    const double cache_bytes = 2.0 * 4 * c.n_layers * double(context) * c.kv_dim();
    if (cache_bytes > kMaxKvCacheBytes)
      return ApiStatus::From(ResourceError("a KV cache of " + integer_text(context) + " positions needs " +
                                           integer_text(int64_t(cache_bytes / 1048576)) +
                                           " MiB; ask for a smaller context"));
    generator_.reset(new Generator(*model_, context, kPromptBatch, pool_.get()));
  }
  last_token_ = -1;
  stop_ = StopReason::kNone;
  const int32_t* p = reinterpret_cast<const int32_t*>(ids);
  return ApiStatus::From(generator_->start(std::vector<int32_t>(p, p + n), options));
}

ApiStatus TextModel::next() {
  if (!generator_) return ApiStatus::From(StateError("call start() before next()"));
  return ApiStatus::From(generator_->next(&last_token_, &stop_));
}

ApiStatus TextModel::logits(uintptr_t ids, uint32_t n, int32_t precision, int32_t batch) {
  Status s = check_loaded();
  if (!s.ok()) return ApiStatus::From(s);
  Precision p;
  s = precision_from_code(precision, &p);
  if (!s.ok()) return ApiStatus::From(s);
  if (n == 0 || int64_t(n) > model_->config.context_length)
    return ApiStatus::From(OutOfRange("logits needs 1.." + integer_text(model_->config.context_length) + " tokens"));
  if (batch < 0) return ApiStatus::From(OutOfRange("batch must be ≥ 1 token (0: the default)"));
  if (batch == 0) batch = kPromptBatch;
  const size_t vocab = size_t(model_->config.vocab_size);
  const double bytes = double(n) * double(vocab) * sizeof(float);
  if (bytes > kMaxLogitsBytes)
    return ApiStatus::From(ResourceError("the logits of " + integer_text(n) + " tokens × " + integer_text(vocab) +
                                         " vocabulary entries need " + integer_text(int64_t(bytes / 1048576)) +
                                         " MiB; ask for fewer tokens at a time"));
  LlamaState state(*model_->llama, int(n), std::min(int(n), batch));
  clear_result();
  result_.resize(size_t(n) * vocab * sizeof(float));  // [n, vocab] f32, written in place
  s = state.forward(reinterpret_cast<const int32_t*>(ids), int(n), reinterpret_cast<float*>(result_.data()), true, p,
                    pool_.get());
  if (!s.ok()) clear_result();
  return ApiStatus::From(s);
}

ApiStatus TextModel::write_gguf() {
  Status s = check_loaded();
  if (!s.ok()) return ApiStatus::From(s);
  clear_result();
  return ApiStatus::From(write_model_gguf(*model_, &result_));
}

uint32_t heap_peak_bytes() {
#if defined(__GLIBC__)
  return uint32_t(mallinfo2().arena);  // glibc keeps no peak; native builds do not use this
#else
  return uint32_t(mallinfo().usmblks);  // dlmalloc: the largest footprint so far
#endif
}

}  // namespace nibble
