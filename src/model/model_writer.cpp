#include "model/model_writer.h"

#include "format/gguf.h"
#include "model/activation_remedy.h"

namespace nibble {
namespace {

Status add_matrix(GgufWriter* writer, const std::string& name, const PackedWeights& w) {
  std::vector<uint8_t> bytes(w.gguf_bytes());
  w.unpack_to_gguf(bytes.data());
  return writer->add_tensor(name, w.type(), {w.cols(), w.rows()}, bytes.data(), bytes.size());
}

Status add_vector(GgufWriter* writer, const std::string& name, const std::vector<float>& v) {
  return writer->add_tensor(name, TensorType::F32, {int64_t(v.size())}, v.data(), v.size() * sizeof(float));
}

void add_tokenizer(GgufWriter* writer, const Vocab& vocab) {
  const bool gpt2 = vocab.kind == Vocab::Kind::kBytePairGpt2;
  writer->set_string("tokenizer.ggml.model", tokenizer_model_name(vocab.kind));
  if (!vocab.pre.empty()) writer->set_string("tokenizer.ggml.pre", vocab.pre);
  writer->set_string_array("tokenizer.ggml.tokens", vocab.tokens);
  writer->set_f32_array("tokenizer.ggml.scores", vocab.scores);
  writer->set_i32_array("tokenizer.ggml.token_type", vocab.token_types);
  if (gpt2) writer->set_string_array("tokenizer.ggml.merges", vocab.merges);
  auto set_id = [writer](const char* key, int32_t id) {
    if (id >= 0) writer->set_u32(key, uint32_t(id));
  };
  set_id("tokenizer.ggml.bos_token_id", vocab.bos);
  const bool wordpiece = vocab.kind == Vocab::Kind::kWordPiece;  // its EOS is [SEP]
  set_id(wordpiece ? "tokenizer.ggml.seperator_token_id" : "tokenizer.ggml.eos_token_id", vocab.eos);
  set_id("tokenizer.ggml.eot_token_id", vocab.eot);
  set_id("tokenizer.ggml.eom_token_id", vocab.eom);
  set_id("tokenizer.ggml.unknown_token_id", vocab.unk);
  set_id("tokenizer.ggml.padding_token_id", vocab.pad);
  writer->set_bool("tokenizer.ggml.add_bos_token", vocab.add_bos);
  writer->set_bool("tokenizer.ggml.add_eos_token", vocab.add_eos);
  writer->set_bool("tokenizer.ggml.add_space_prefix", vocab.add_space_prefix);
  if (!vocab.chat_template.empty()) writer->set_string("tokenizer.chat_template", vocab.chat_template);
  if (wordpiece) {
    writer->set_bool("tokenizer.ggml.normalizer.lowercase", vocab.lowercase);
    writer->set_bool("tokenizer.ggml.normalizer.strip_accents", vocab.strip_accents);
  }
}

// llama.cpp's general.file_type (LLAMA_FTYPE_*): the mix's, or the one
// for the matrices' type.
uint32_t file_type_of(const Model& model) {
  if (model.mix) return model.mix->file_type;
  return tensor_type_info(model.llama->weights().layers[0].wq.type())->llama_file_type;
}

}  // namespace

Status write_model_gguf(const Model& model, std::vector<uint8_t>* out) {
  if (!model.llama || !model.tokenizer) return StateError("the model is not loaded");
  const Architecture& arch = model.architecture;
  const LlamaConfig& c = model.config;
  const LlamaWeights& w = model.llama->weights();
  GgufWriter writer;
  writer.set_string("general.architecture", arch.name);
  writer.set_string("general.name", model.info.name.empty() ? "nibble model" : model.info.name);
  writer.set_u32("general.file_type", file_type_of(model));
  write_config_keys(arch, c, &writer);
  if (model.info.rotated_inputs) writer.set_u32(kRotationKey, kRotationBlock);
  if (model.info.smoothed_inputs) writer.set_bool(kSmoothingKey, true);
  add_tokenizer(&writer, model.tokenizer->vocab());

  Status s;
  for_each_tensor(arch, c.n_layers, [&](const TensorSpec& spec, int layer) {
    const ConstSlotRef slot = slot_ref(w, spec.slot, layer);
    if (!s.ok() || slot.empty()) return;  // an optional tensor the model lacks
    s = slot.matrix ? add_matrix(&writer, tensor_name(spec, layer), *slot.matrix)
                    : add_vector(&writer, tensor_name(spec, layer), *slot.vector);
    if (slot.matrix && slot.matrix->input_shift())
      writer.set_f32_array(kShiftKeyPrefix + tensor_name(spec, layer), *slot.matrix->input_shift());
    if (slot.matrix && slot.matrix->input_basis())
      writer.set_f32_array(kBasisKeyPrefix + tensor_name(spec, layer), *slot.matrix->input_basis());
  });
  NIBBLE_RETURN_IF_ERROR(s);
  *out = writer.serialize();
  return Status::Ok();
}

}  // namespace nibble
