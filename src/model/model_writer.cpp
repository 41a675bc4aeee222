#include "model/model_writer.h"

#include "format/gguf.h"

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
  writer->set_string("tokenizer.ggml.model", gpt2 ? "gpt2" : "llama");
  if (!vocab.pre.empty()) writer->set_string("tokenizer.ggml.pre", vocab.pre);
  writer->set_string_array("tokenizer.ggml.tokens", vocab.tokens);
  writer->set_f32_array("tokenizer.ggml.scores", vocab.scores);
  writer->set_i32_array("tokenizer.ggml.token_type", vocab.token_types);
  if (gpt2) writer->set_string_array("tokenizer.ggml.merges", vocab.merges);
  auto set_id = [writer](const char* key, int32_t id) {
    if (id >= 0) writer->set_u32(key, uint32_t(id));
  };
  set_id("tokenizer.ggml.bos_token_id", vocab.bos);
  set_id("tokenizer.ggml.eos_token_id", vocab.eos);
  set_id("tokenizer.ggml.unknown_token_id", vocab.unk);
  set_id("tokenizer.ggml.padding_token_id", vocab.pad);
  writer->set_bool("tokenizer.ggml.add_bos_token", vocab.add_bos);
  writer->set_bool("tokenizer.ggml.add_space_prefix", vocab.add_space_prefix);
}

// llama.cpp's general.file_type for the matrices' type (LLAMA_FTYPE_*).
uint32_t file_type_of(const Model& model) {
  return tensor_type_info(model.llama->weights().layers[0].wq.type())->llama_file_type;
}

}  // namespace

Status write_model_gguf(const Model& model, std::vector<uint8_t>* out) {
  if (!model.llama || !model.tokenizer) return StateError("the model is not loaded");
  const LlamaConfig& c = model.config;
  const LlamaWeights& w = model.llama->weights();
  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_string("general.name", model.info.name.empty() ? "nibble model" : model.info.name);
  writer.set_u32("general.file_type", file_type_of(model));
  writer.set_u32("llama.context_length", uint32_t(c.context_length));
  writer.set_u32("llama.embedding_length", uint32_t(c.dim));
  writer.set_u32("llama.block_count", uint32_t(c.n_layers));
  writer.set_u32("llama.feed_forward_length", uint32_t(c.hidden_dim));
  writer.set_u32("llama.rope.dimension_count", uint32_t(c.rope_dim));
  writer.set_u32("llama.attention.head_count", uint32_t(c.n_heads));
  writer.set_u32("llama.attention.head_count_kv", uint32_t(c.n_kv_heads));
  writer.set_f32("llama.attention.layer_norm_rms_epsilon", c.rms_eps);
  writer.set_f32("llama.rope.freq_base", c.rope_theta);
  writer.set_u32("llama.vocab_size", uint32_t(c.vocab_size));
  add_tokenizer(&writer, model.tokenizer->vocab());

  NIBBLE_RETURN_IF_ERROR(add_matrix(&writer, "token_embd.weight", w.token_embd));
  NIBBLE_RETURN_IF_ERROR(add_vector(&writer, "output_norm.weight", w.output_norm));
  if (w.output.rows() > 0) NIBBLE_RETURN_IF_ERROR(add_matrix(&writer, "output.weight", w.output));
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const LlamaLayer& l = w.layers[i];
    const std::string p = "blk." + std::to_string(i) + ".";
    NIBBLE_RETURN_IF_ERROR(add_vector(&writer, p + "attn_norm.weight", l.attn_norm));
    NIBBLE_RETURN_IF_ERROR(add_matrix(&writer, p + "attn_q.weight", l.wq));
    NIBBLE_RETURN_IF_ERROR(add_matrix(&writer, p + "attn_k.weight", l.wk));
    NIBBLE_RETURN_IF_ERROR(add_matrix(&writer, p + "attn_v.weight", l.wv));
    NIBBLE_RETURN_IF_ERROR(add_matrix(&writer, p + "attn_output.weight", l.wo));
    NIBBLE_RETURN_IF_ERROR(add_vector(&writer, p + "ffn_norm.weight", l.ffn_norm));
    NIBBLE_RETURN_IF_ERROR(add_matrix(&writer, p + "ffn_gate.weight", l.gate));
    NIBBLE_RETURN_IF_ERROR(add_matrix(&writer, p + "ffn_down.weight", l.down));
    NIBBLE_RETURN_IF_ERROR(add_matrix(&writer, p + "ffn_up.weight", l.up));
  }
  *out = writer.serialize();
  return Status::Ok();
}

}  // namespace nibble
