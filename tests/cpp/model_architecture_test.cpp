// The architecture table: a row added by a test is enough for the writer to
// write a file of that architecture and for the loader to read it back; a
// tensor the row does not use, an unknown architecture and a row whose
// switches read tensors it does not require are refused with messages that
// name them.
// Files are made with our GGUF writer from the bundled stories260K.gguf.
#include "model/architecture.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "model/model_loader.h"
#include "model/model_writer.h"
#include "support/fixture_util.h"

namespace nibble {
namespace {

Status load(const std::vector<uint8_t>& bytes, const LoadOptions& options, std::unique_ptr<Model>* out) {
  ModelLoader loader(options, bytes.size());
  NIBBLE_RETURN_IF_ERROR(loader.feed(bytes.data(), bytes.size()));
  return loader.finish(out);
}

void expect_refused(const std::vector<uint8_t>& bytes, const LoadOptions& options, const std::string& substring) {
  std::unique_ptr<Model> model;
  const Status s = load(bytes, options, &model);
  ASSERT_FALSE(s.ok()) << "expected an error containing \"" << substring << "\"";
  EXPECT_EQ(s.kind(), ErrorKind::kFormat) << s.message();
  EXPECT_NE(s.message().find(substring), std::string::npos) << s.message();
}

// Logits at every position of a few tokens (W4A32: the reference path).
std::vector<float> logits_of(const Model& model) {
  const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 9};
  LlamaState state(*model.llama, int(tokens.size()), int(tokens.size()));
  std::vector<float> logits(tokens.size() * size_t(model.config.vocab_size));
  EXPECT_TRUE(state.forward(tokens.data(), int(tokens.size()), logits.data(), true, Precision::kW4A32, nullptr).ok());
  return logits;
}

// stories260K.gguf rewritten by our writer: its metadata with `edit` applied,
// its tensors, and `extra` (name, F32 values) appended.
std::vector<uint8_t> rewrite_stories(void (*edit)(GgufWriter*), const std::string& extra_name,
                                     const std::vector<float>& extra) {
  const std::vector<uint8_t> base = read_fixture("models/stories260K.gguf");
  GgufFile file;
  EXPECT_TRUE(GgufFile::Parse(base.data(), base.size(), base.size(), &file).ok());
  GgufWriter writer;
  for (const std::string& key : file.metadata_keys()) writer.set_value(key, *file.find(key));
  if (edit) edit(&writer);
  for (const GgufTensorInfo& t : file.tensors()) {
    EXPECT_TRUE(writer.add_tensor(t.name, t.type, t.shape, base.data() + t.offset, t.bytes).ok());
  }
  if (!extra_name.empty()) {
    EXPECT_TRUE(writer.add_tensor(extra_name, TensorType::F32, {int64_t(extra.size())}, extra.data(),
                                  extra.size() * sizeof(float)).ok());
  }
  return writer.serialize();
}

TEST(ModelArchitecture, BuiltinRowsAreConsistent) {
  for (const Architecture& arch : builtin_architectures()) {
    SCOPED_TRACE(arch.name);
    EXPECT_EQ(find_architecture(builtin_architectures(), arch.name), &arch);
    EXPECT_TRUE(check_row(arch).ok()) << check_row(arch).message();
    for (const TensorSpec& spec : arch.tensors) {
      SCOPED_TRACE(spec.pattern);
      // Per-layer slots, and only they, have a layer number in their name.
      EXPECT_EQ(spec.pattern.find("%d") != std::string::npos, is_layer_slot(spec.slot));
      EXPECT_EQ(spec_of(arch, spec.slot), &spec);  // one tensor per slot
      const int layer = is_layer_slot(spec.slot) ? 17 : -1;
      int matched = -2;
      EXPECT_EQ(match_tensor(arch, tensor_name(spec, layer), &matched), &spec);
      EXPECT_EQ(matched, layer);
    }
  }
  const Architecture& llama = *find_architecture(builtin_architectures(), "llama");
  int layer = -1;
  EXPECT_EQ(tensor_name(*spec_of(llama, TensorSlot::kFfnDown), 3), "blk.3.ffn_down.weight");
  EXPECT_EQ(match_tensor(llama, "blk.12.attn_k.weight", &layer), spec_of(llama, TensorSlot::kAttnK));
  EXPECT_EQ(layer, 12);
  for (const char* name : {"blk..attn_k.weight", "blk.01.attn_k.weight", "blk.-1.attn_k.weight",
                           "blk.1.attn_k.weightx", "blk.1.attn_qkv.weight"})
    EXPECT_EQ(match_tensor(llama, name, &layer), nullptr) << name;
}

// A test-only row: LLaMA's forward pass under another name, metadata prefix
// and tensor names. The writer writes a file of it, the loader reads the file
// back only when given the row, and the model computes the same logits.
TEST(ModelArchitecture, AFakeRowIsWrittenAndLoaded) {
  LoadOptions options;
  std::unique_ptr<Model> model;
  const std::vector<uint8_t> stories = read_fixture("models/stories260K.gguf");
  ASSERT_TRUE(load(stories, options, &model).ok());
  const std::vector<float> want = logits_of(*model);

  std::vector<Architecture> rows = builtin_architectures();
  Architecture toy = *find_architecture(rows, "llama");
  toy.name = "toyllama";
  toy.prefix = "toy";
  for (TensorSpec& spec : toy.tensors) spec.pattern = "toy." + spec.pattern;
  rows.push_back(toy);
  model->architecture = toy;
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(write_model_gguf(*model, &bytes).ok());

  GgufFile file;
  ASSERT_TRUE(GgufFile::Parse(bytes.data(), bytes.size(), bytes.size(), &file).ok());
  std::string name;
  ASSERT_TRUE(file.get_string("general.architecture", &name).ok());
  EXPECT_EQ(name, "toyllama");
  EXPECT_NE(file.find("toy.block_count"), nullptr);
  EXPECT_EQ(file.find("llama.block_count"), nullptr);
  EXPECT_NE(file.find_tensor("toy.blk.4.ffn_up.weight"), nullptr);
  EXPECT_NE(file.find_tensor("toy.token_embd.weight"), nullptr);

  // Not a built-in architecture: refused, by name.
  expect_refused(bytes, options,
                 "model architecture 'toyllama' (general.architecture) is not supported: nibble runs llama");

  options.architectures = &rows;
  std::unique_ptr<Model> toy_model;
  const Status s = load(bytes, options, &toy_model);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(toy_model->info.architecture, "toyllama");
  EXPECT_EQ(toy_model->architecture.prefix, "toy");
  EXPECT_EQ(toy_model->config.n_layers, 5);
  EXPECT_EQ(toy_model->config.kv_dim(), 32);
  EXPECT_EQ(toy_model->config.hidden_dim, 172);
  EXPECT_EQ(logits_of(*toy_model), want);

  // A row whose switches read tensors it does not require.
  rows.back().forward.qkv_bias = true;
  expect_refused(bytes, options, "architecture 'toyllama' has no required tensor for slot");
}

// As llama.cpp does, a file with a tensor its architecture does not use is
// refused: a bias ignored would give wrong logits.
TEST(ModelArchitecture, ATensorTheRowDoesNotUseIsRefused) {
  std::unique_ptr<Model> model;
  const Status s = load(rewrite_stories(nullptr, "", {}), LoadOptions(), &model);
  ASSERT_TRUE(s.ok()) << s.message();  // the rewrite alone loads

  // Llama 3's rope_freqs.weight is part of 'llama': [rope_dim / 2] only.
  const std::vector<float> rope_freqs(3, 1.0f);  // stories260K: head_dim 8, so 4 wanted
  expect_refused(rewrite_stories(nullptr, "rope_freqs.weight", rope_freqs), LoadOptions(),
                 "tensor rope_freqs.weight has shape [3] but the hyperparameters say [4]");
  expect_refused(rewrite_stories(nullptr, "blk.2.attn_q.bias", std::vector<float>(64, 0.0f)), LoadOptions(),
                 "tensor blk.2.attn_q.bias is not part of the 'llama' architecture");
}

TEST(ModelArchitecture, AnUnknownArchitectureIsNamed) {
  auto to_mamba = [](GgufWriter* w) { w->set_string("general.architecture", "mamba"); };
  expect_refused(rewrite_stories(to_mamba, "", {}), LoadOptions(),
                 "model architecture 'mamba' (general.architecture) is not supported");
}

TEST(ModelArchitecture, TheLoaderExposesTheFileTensorTable) {
  const std::vector<uint8_t> bytes = read_fixture("models/stories260K.gguf");
  GgufFile file;
  ASSERT_TRUE(GgufFile::Parse(bytes.data(), bytes.size(), bytes.size(), &file).ok());
  ModelLoader loader(LoadOptions(), bytes.size());
  EXPECT_TRUE(loader.tensors().empty());
  ASSERT_TRUE(loader.feed(bytes.data(), bytes.size()).ok());
  ASSERT_EQ(loader.tensors().size(), file.tensors().size());
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const GgufTensorInfo &got = loader.tensors()[i], &want = file.tensors()[i];
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(got.shape, want.shape);
    EXPECT_EQ(got.offset, want.offset);
    EXPECT_EQ(got.bytes, want.bytes);
  }
}

}  // namespace
}  // namespace nibble
