// GGUF reader on real files, and writer -> reader round trips.
#include "format/gguf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "support/fixture_util.h"

namespace nibble {
namespace {

Status ParseAll(const std::vector<uint8_t>& bytes, GgufFile* file, bool* need_more = nullptr) {
  return GgufFile::Parse(bytes.data(), bytes.size(), bytes.size(), file, need_more);
}

TEST(GgufRealFiles, Stories260K) {
  const std::vector<uint8_t> bytes = read_fixture("models/stories260K.gguf");
  ASSERT_EQ(bytes.size(), 1185376u);
  GgufFile file;
  Status s = ParseAll(bytes, &file);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 32u);
  EXPECT_EQ(file.data_offset() % 32, 0u);

  std::string arch;
  ASSERT_TRUE(file.get_string("general.architecture", &arch).ok());
  EXPECT_EQ(arch, "llama");
  const std::pair<const char*, int64_t> ints[] = {
      {"llama.embedding_length", 64}, {"llama.block_count", 5},
      {"llama.attention.head_count", 8}, {"llama.attention.head_count_kv", 4},
      {"llama.feed_forward_length", 172}, {"llama.context_length", 2048},
  };
  for (const auto& kv : ints) {
    int64_t v = -1;
    s = file.get_int(kv.first, &v);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(v, kv.second) << kv.first;
  }
  double eps = 0;
  ASSERT_TRUE(file.get_float("llama.attention.layer_norm_rms_epsilon", &eps).ok());
  EXPECT_NEAR(eps, 1e-5, 1e-9);
  const std::vector<std::string>* tokens = nullptr;
  ASSERT_TRUE(file.get_strings("tokenizer.ggml.tokens", &tokens).ok());
  ASSERT_EQ(tokens->size(), 512u);
  const std::vector<double>* scores = nullptr;
  ASSERT_TRUE(file.get_floats("tokenizer.ggml.scores", &scores).ok());
  EXPECT_EQ(scores->size(), 512u);
  const std::vector<int64_t>* token_types = nullptr;
  ASSERT_TRUE(file.get_ints("tokenizer.ggml.token_type", &token_types).ok());
  EXPECT_EQ(token_types->size(), 512u);

  // Typed getters name the key and the type found.
  int64_t not_int = 0;
  s = file.get_int("general.architecture", &not_int);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'general.architecture' is a string, expected an integer"), std::string::npos)
      << s.message();
  s = file.get_int("llama.no_such_key", &not_int);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'llama.no_such_key' is missing"), std::string::npos) << s.message();

  // 3 + 9 per layer tensors (llama.cpp's converter wrote the shared
  // classifier out as output.weight), F32, shapes in GGUF order.
  EXPECT_EQ(file.tensors().size(), 3u + 9u * 5u);
  struct Expected { const char* name; std::vector<int64_t> shape; };
  const Expected expected[] = {
      {"token_embd.weight", {64, 512}},       {"output_norm.weight", {64}},
      {"output.weight", {64, 512}},
      {"blk.0.attn_norm.weight", {64}},       {"blk.0.attn_q.weight", {64, 64}},
      {"blk.0.attn_k.weight", {64, 32}},      {"blk.0.attn_v.weight", {64, 32}},
      {"blk.4.attn_output.weight", {64, 64}}, {"blk.4.ffn_gate.weight", {64, 172}},
      {"blk.4.ffn_down.weight", {172, 64}},   {"blk.4.ffn_up.weight", {64, 172}},
      {"blk.4.ffn_norm.weight", {64}},
  };
  for (const Expected& e : expected) {
    const GgufTensorInfo* t = file.find_tensor(e.name);
    ASSERT_NE(t, nullptr) << e.name;
    EXPECT_EQ(t->shape, e.shape) << e.name;
    EXPECT_EQ(t->type, TensorType::F32) << e.name;
    EXPECT_EQ(t->bytes, uint64_t(t->elements()) * 4) << e.name;
    EXPECT_EQ(t->offset % 32, 0u) << e.name;
    EXPECT_LE(t->offset + t->bytes, bytes.size()) << e.name;
  }
}

void ExpectVocabOnly(const char* path, size_t n_tokens, const char* model) {
  const std::vector<uint8_t> bytes = read_fixture(path);
  GgufFile file;
  Status s = ParseAll(bytes, &file);
  ASSERT_TRUE(s.ok()) << path << ": " << s.message();
  EXPECT_TRUE(file.tensors().empty()) << path;
  std::string m;
  ASSERT_TRUE(file.get_string("tokenizer.ggml.model", &m).ok()) << path;
  EXPECT_EQ(m, model) << path;
  const std::vector<std::string>* tokens = nullptr;
  ASSERT_TRUE(file.get_strings("tokenizer.ggml.tokens", &tokens).ok()) << path;
  EXPECT_EQ(tokens->size(), n_tokens) << path;
}

TEST(GgufRealFiles, VocabOnlyFiles) {
  ExpectVocabOnly("tests/fixtures/ggml-vocab-phi-3.gguf", 32064, "llama");
  ExpectVocabOnly("tests/fixtures/ggml-vocab-gpt-2.gguf", 50257, "gpt2");
  GgufFile file;
  ASSERT_TRUE(ParseAll(read_fixture("tests/fixtures/ggml-vocab-gpt-2.gguf"), &file).ok());
  const std::vector<std::string>* merges = nullptr;
  ASSERT_TRUE(file.get_strings("tokenizer.ggml.merges", &merges).ok());
  EXPECT_EQ(merges->size(), 50000u);
}

// A prefix that ends inside the header asks for more bytes; one that holds
// the whole tensor table parses even though the tensor data is missing.
TEST(GgufRealFiles, StreamingPrefix) {
  const std::vector<uint8_t> bytes = read_fixture("models/stories260K.gguf");
  GgufFile full;
  ASSERT_TRUE(ParseAll(bytes, &full).ok());
  bool need_more = false;
  GgufFile file;
  Status s = GgufFile::Parse(bytes.data(), 1000, bytes.size(), &file, &need_more);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(need_more) << s.message();
  s = GgufFile::Parse(bytes.data(), size_t(full.data_offset()), bytes.size(), &file, &need_more);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(need_more);
  EXPECT_EQ(file.tensors().size(), full.tensors().size());
}


GgufValue MakeScalar(GgufType type, int64_t i, double f = 0, const std::string& s = "") {
  GgufValue v;
  v.type = type;
  v.i = i;
  v.f = f;
  v.s = s;
  return v;
}

GgufValue MakeArray(GgufType element_type) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = element_type;
  return v;
}

// Random bytes for a tensor of `type` and GGUF shape (contents do not matter
// to the container).
std::vector<uint8_t> RandomTensorBytes(TensorType type, const std::vector<int64_t>& shape, uint32_t seed) {
  int64_t rows = 1;
  for (size_t d = 1; d < shape.size(); ++d) rows *= shape[d];
  const size_t row_bytes = row_size(type, shape[0]);
  std::vector<uint8_t> data(row_bytes * size_t(rows));
  std::mt19937 rng(seed);
  for (uint8_t& b : data) b = uint8_t(rng());
  return data;
}

void ExpectSameValue(const std::string& key, const GgufValue& want, const GgufValue& got) {
  ASSERT_EQ(int(got.type), int(want.type)) << key;
  if (want.type == GgufType::ARRAY) {
    ASSERT_EQ(int(got.array_type), int(want.array_type)) << key;
    EXPECT_EQ(got.ints, want.ints) << key;
    EXPECT_EQ(got.floats, want.floats) << key;
    EXPECT_EQ(got.strings, want.strings) << key;
  } else {
    EXPECT_EQ(got.i, want.i) << key;
    EXPECT_EQ(got.f, want.f) << key;
    EXPECT_EQ(got.s, want.s) << key;
  }
}

TEST(GgufRoundTrip, EveryMetadataTypeAndTensorType) {
  GgufWriter w;
  std::vector<std::pair<std::string, GgufValue>> want;
  auto put = [&](const std::string& key, const GgufValue& v) {
    w.set_value(key, v);
    want.emplace_back(key, v);
  };
  put("t.u8", MakeScalar(GgufType::UINT8, 250));
  put("t.i8", MakeScalar(GgufType::INT8, -100));
  put("t.u16", MakeScalar(GgufType::UINT16, 65000));
  put("t.i16", MakeScalar(GgufType::INT16, -32000));
  put("t.u32", MakeScalar(GgufType::UINT32, 4000000000LL));
  put("t.i32", MakeScalar(GgufType::INT32, -2000000000));
  put("t.f32", MakeScalar(GgufType::FLOAT32, 0, 1.5));
  put("t.bool", MakeScalar(GgufType::BOOL, 1));
  put("t.string", MakeScalar(GgufType::STRING, 0, 0, std::string("h\xc3\xa9llo\0x", 8)));
  put("t.u64", MakeScalar(GgufType::UINT64, int64_t(uint64_t(1) << 62)));
  put("t.i64", MakeScalar(GgufType::INT64, -(int64_t(1) << 50)));
  put("t.f64", MakeScalar(GgufType::FLOAT64, 0, 3.141592653589793));
  const GgufType int_types[] = {GgufType::UINT8, GgufType::INT8, GgufType::UINT16, GgufType::INT16,
                                GgufType::UINT32, GgufType::INT32, GgufType::UINT64, GgufType::INT64,
                                GgufType::BOOL};
  for (GgufType t : int_types) {
    GgufValue a = MakeArray(t);
    a.ints = {0, 1, t == GgufType::BOOL ? 0 : 7};
    put(std::string("a.") + gguf_type_name(t), a);
  }
  GgufValue af32 = MakeArray(GgufType::FLOAT32);
  af32.floats = {0.25, -2, 1e10};
  put("a.float32", af32);
  GgufValue af64 = MakeArray(GgufType::FLOAT64);
  af64.floats = {1e-300, -0.1};
  put("a.float64", af64);
  GgufValue astr = MakeArray(GgufType::STRING);
  astr.strings = {"", "a", "<0x0A>", std::string(300, 'z')};
  put("a.string", astr);
  put("a.empty", MakeArray(GgufType::INT32));
  // The typed setters.
  w.set_u32("s.u32", 7);
  w.set_i32("s.i32", -7);
  w.set_f32("s.f32", 0.5f);
  w.set_bool("s.bool", true);
  w.set_string("s.string", "llama");
  w.set_string_array("s.strings", {"x", "y"});
  w.set_f32_array("s.f32s", {1.0f, -1.0f});
  w.set_i32_array("s.i32s", {3, -3});
  w.set_u32("s.u32", 8);  // replaces in place

  struct T { const char* name; TensorType type; std::vector<int64_t> shape; };
  const T tensors[] = {
      {"f32.weight", TensorType::F32, {3}},         {"f16.weight", TensorType::F16, {5, 3}},
      {"q4_0.weight", TensorType::Q4_0, {64, 3}},   {"q4_1.weight", TensorType::Q4_1, {32, 2, 2}},
      {"q8_0.weight", TensorType::Q8_0, {96, 1, 1, 2}},
  };
  std::vector<std::vector<uint8_t>> datas;
  for (size_t n = 0; n < 5; ++n) {
    datas.push_back(RandomTensorBytes(tensors[n].type, tensors[n].shape, uint32_t(n + 1)));
    Status s = w.add_tensor(tensors[n].name, tensors[n].type, tensors[n].shape, datas[n].data(), datas[n].size());
    ASSERT_TRUE(s.ok()) << s.message();
  }
  const std::vector<uint8_t> bytes = w.serialize();
  EXPECT_EQ(bytes.size() % 32, 0u);

  GgufFile file;
  Status s = ParseAll(bytes, &file);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 32u);
  EXPECT_EQ(file.metadata().size(), want.size() + 8);
  for (const auto& kv : want) {
    const GgufValue* got = file.find(kv.first);
    ASSERT_NE(got, nullptr) << kv.first;
    ExpectSameValue(kv.first, kv.second, *got);
  }
  int64_t i = 0;
  double f = 0;
  std::string str;
  const std::vector<std::string>* strs = nullptr;
  const std::vector<double>* floats = nullptr;
  const std::vector<int64_t>* ints = nullptr;
  ASSERT_TRUE(file.get_int("s.u32", &i).ok());
  EXPECT_EQ(i, 8);
  ASSERT_TRUE(file.get_int("s.i32", &i).ok());
  EXPECT_EQ(i, -7);
  ASSERT_TRUE(file.get_float("s.f32", &f).ok());
  EXPECT_EQ(f, 0.5);
  ASSERT_TRUE(file.get_int("s.bool", &i).ok());
  EXPECT_EQ(i, 1);
  ASSERT_TRUE(file.get_string("s.string", &str).ok());
  EXPECT_EQ(str, "llama");
  ASSERT_TRUE(file.get_strings("s.strings", &strs).ok());
  EXPECT_EQ(*strs, (std::vector<std::string>{"x", "y"}));
  ASSERT_TRUE(file.get_floats("s.f32s", &floats).ok());
  EXPECT_EQ(*floats, (std::vector<double>{1.0, -1.0}));
  ASSERT_TRUE(file.get_ints("s.i32s", &ints).ok());
  EXPECT_EQ(*ints, (std::vector<int64_t>{3, -3}));
  s = file.get_int("t.u64", &i);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(i, int64_t(1) << 62);

  ASSERT_EQ(file.tensors().size(), 5u);
  for (size_t n = 0; n < 5; ++n) {
    const GgufTensorInfo& t = file.tensors()[n];  // file order = insertion order
    EXPECT_EQ(t.name, tensors[n].name);
    EXPECT_EQ(t.type, tensors[n].type) << t.name;
    EXPECT_EQ(t.shape, tensors[n].shape) << t.name;
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    ASSERT_EQ(t.bytes, datas[n].size()) << t.name;
    EXPECT_EQ(0, std::memcmp(bytes.data() + t.offset, datas[n].data(), datas[n].size())) << t.name;
  }
}

// The exact bytes of a tiny file: the standard layout, nothing extra.
TEST(GgufRoundTrip, StandardLayoutBytes) {
  GgufWriter w;
  w.set_u32("k", 5);
  const float x[2] = {1.0f, 2.0f};
  ASSERT_TRUE(w.add_tensor("t", TensorType::F32, {2}, x, sizeof(x)).ok());
  const std::vector<uint8_t> bytes = w.serialize();
  std::vector<uint8_t> want = {'G', 'G', 'U', 'F', 3, 0, 0, 0,  // magic, version 3
                               1, 0, 0, 0, 0, 0, 0, 0,          // 1 tensor
                               1, 0, 0, 0, 0, 0, 0, 0,          // 1 key/value
                               1, 0, 0, 0, 0, 0, 0, 0, 'k',     // key "k"
                               4, 0, 0, 0, 5, 0, 0, 0,          // uint32 5
                               1, 0, 0, 0, 0, 0, 0, 0, 't',     // tensor name "t"
                               1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,  // 1 dim: 2
                               0, 0, 0, 0,                      // F32
                               0, 0, 0, 0, 0, 0, 0, 0};         // offset 0
  want.resize(96, 0);                                           // pad to 32
  const uint8_t* xb = reinterpret_cast<const uint8_t*>(x);
  want.insert(want.end(), xb, xb + 8);
  want.resize(128, 0);                                          // data padded too
  EXPECT_EQ(bytes, want);
}

TEST(GgufRoundTrip, CustomAlignment) {
  GgufWriter w;
  w.set_u32("general.alignment", 64);
  const std::vector<uint8_t> a = RandomTensorBytes(TensorType::F32, {3}, 9);
  const std::vector<uint8_t> b = RandomTensorBytes(TensorType::Q4_0, {32}, 10);
  ASSERT_TRUE(w.add_tensor("a", TensorType::F32, {3}, a.data(), a.size()).ok());
  ASSERT_TRUE(w.add_tensor("b", TensorType::Q4_0, {32}, b.data(), b.size()).ok());
  const std::vector<uint8_t> bytes = w.serialize();
  GgufFile file;
  Status s = ParseAll(bytes, &file);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(file.alignment(), 64u);
  EXPECT_EQ(file.data_offset() % 64, 0u);
  EXPECT_EQ(file.find_tensor("b")->offset, file.data_offset() + 64);
  EXPECT_EQ(0, std::memcmp(bytes.data() + file.find_tensor("b")->offset, b.data(), b.size()));
}

TEST(GgufRoundTrip, WriterRejectsBadTensors) {
  GgufWriter w;
  const std::vector<uint8_t> data(1024, 0);
  auto expect_error = [&](const std::string& name, TensorType type, const std::vector<int64_t>& shape,
                          size_t bytes, const char* substring) {
    Status s = w.add_tensor(name, type, shape, data.data(), bytes);
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_NE(s.message().find(substring), std::string::npos) << s.message();
  };
  expect_error("", TensorType::F32, {1}, 4, "1 to 63 bytes");
  expect_error(std::string(64, 'n'), TensorType::F32, {1}, 4, "1 to 63 bytes");
  expect_error("q", TensorType::Q4_0, {33}, 18, "multiple of the block size 32");
  expect_error("z", TensorType::F32, {0}, 0, "shape must be positive");
  expect_error("d", TensorType::F32, {1, 1, 1, 1, 1}, 4, "5 dimensions");
  expect_error("b", TensorType::F32, {4}, 12, "expected 16 bytes");
  expect_error("u", TensorType(11), {256}, 110, "unsupported type id 11");
  ASSERT_TRUE(w.add_tensor("ok", TensorType::F32, {1}, data.data(), 4).ok());
  expect_error("ok", TensorType::F32, {1}, 4, "already added");
}

// Reading llama.cpp's own file and writing it back gives the same bytes: the
// writer's layout is the one llama.cpp writes (and so reads).
void ExpectRewriteIsIdentical(const char* path) {
  SCOPED_TRACE(path);
  const std::vector<uint8_t> bytes = read_fixture(path);
  GgufFile file;
  ASSERT_TRUE(ParseAll(bytes, &file).ok());
  ASSERT_EQ(file.metadata_keys().size(), file.metadata().size());
  GgufWriter w;
  for (const std::string& key : file.metadata_keys()) w.set_value(key, *file.find(key));
  for (const GgufTensorInfo& t : file.tensors()) {
    Status s = w.add_tensor(t.name, t.type, t.shape, bytes.data() + t.offset, size_t(t.bytes));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  const std::vector<uint8_t> rewritten = w.serialize();
  ASSERT_EQ(rewritten.size(), bytes.size());
  for (size_t n = 0; n < bytes.size(); ++n) {
    ASSERT_EQ(rewritten[n], bytes[n]) << "first difference at byte " << n;
  }
}

TEST(GgufRoundTrip, RewritesLlamaCppFilesByteForByte) {
  ExpectRewriteIsIdentical("models/stories260K.gguf");
  ExpectRewriteIsIdentical("tests/fixtures/ggml-vocab-phi-3.gguf");
  ExpectRewriteIsIdentical("tests/fixtures/ggml-vocab-gpt-2.gguf");
}

}  // namespace
}  // namespace nibble
