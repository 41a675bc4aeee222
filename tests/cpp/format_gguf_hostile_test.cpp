// The GGUF reader on hostile input: truncations, random mutations and
// hand-made files with impossible counts, lengths, types, shapes and offsets.
// Each must give a clear error (or need_more), never a crash, a hang or a
// huge allocation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "format/gguf.h"

namespace nibble {
namespace {

// Appends raw little-endian fields: builds files a writer never would.
struct Raw {
  std::vector<uint8_t> b;
  Raw& u32(uint32_t v) { for (int k = 0; k < 4; ++k) b.push_back(uint8_t(v >> (8 * k))); return *this; }
  Raw& u64(uint64_t v) { for (int k = 0; k < 8; ++k) b.push_back(uint8_t(v >> (8 * k))); return *this; }
  Raw& bytes(const std::string& s) { b.insert(b.end(), s.begin(), s.end()); return *this; }
  Raw& str(const std::string& s) { return u64(s.size()).bytes(s); }
  Raw& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return bytes("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  Raw& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  // A tensor info: name, dims, type, relative offset.
  Raw& tensor(const std::string& name, const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset) {
    str(name).u32(uint32_t(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  Raw& pad(size_t alignment) { while (b.size() % alignment) b.push_back(0); return *this; }
  Raw& zeros(size_t n) { b.insert(b.end(), n, 0); return *this; }
};

Status Parse(const std::vector<uint8_t>& bytes, GgufFile* file = nullptr) {
  GgufFile scratch;
  return GgufFile::Parse(bytes.data(), bytes.size(), bytes.size(), file ? file : &scratch);
}

void ExpectError(const std::vector<uint8_t>& bytes, const std::string& substring) {
  Status s = Parse(bytes);
  ASSERT_FALSE(s.ok()) << "expected an error containing \"" << substring << "\"";
  EXPECT_EQ(s.kind(), ErrorKind::kFormat) << s.message();
  EXPECT_NE(s.message().find(substring), std::string::npos)
      << "message: " << s.message() << "\nexpected substring: " << substring;
}

// A streaming parse (need_more given: a first pass steps over string
// arrays' texts) ends as a parse of the same bytes without need_more: same
// success and message; need_more set only if the header is incomplete.
void ExpectSameStreaming(const std::vector<uint8_t>& bytes, uint64_t file_size, const std::string& what) {
  GgufFile whole, streamed;
  bool need_more = true;
  const Status want = GgufFile::Parse(bytes.data(), bytes.size(), file_size, &whole);
  const Status s = GgufFile::Parse(bytes.data(), bytes.size(), file_size, &streamed, &need_more);
  EXPECT_EQ(s.ok(), want.ok()) << what << ": " << s.message() << " / " << want.message();
  EXPECT_EQ(s.message(), want.message()) << what;
  if (need_more) {
    EXPECT_NE(s.message().find("incomplete"), std::string::npos) << what << ": " << s.message();
  }
  if (!s.ok() || !want.ok()) return;
  // The streamed parse must keep what the whole one keeps: every value,
  // string arrays' texts included (its first pass steps over them), and the
  // tensor table.
  EXPECT_EQ(streamed.metadata_keys(), whole.metadata_keys()) << what;
  for (const auto& [key, value] : whole.metadata()) {
    const GgufValue* got = streamed.find(key);
    ASSERT_NE(got, nullptr) << what << ": " << key;
    EXPECT_EQ(got->type, value.type) << what << ": " << key;
    EXPECT_EQ(got->i, value.i) << what << ": " << key;
    EXPECT_EQ(got->s, value.s) << what << ": " << key;
    EXPECT_EQ(got->ints, value.ints) << what << ": " << key;
    EXPECT_EQ(got->strings, value.strings) << what << ": " << key;
    ASSERT_EQ(got->floats.size(), value.floats.size()) << what << ": " << key;
    for (size_t k = 0; k < value.floats.size(); ++k) {  // bitwise: NaN payloads too
      EXPECT_EQ(std::memcmp(&got->floats[k], &value.floats[k], sizeof(double)), 0) << what << ": " << key << "[" << k << "]";
    }
    EXPECT_EQ(std::memcmp(&got->f, &value.f, sizeof(double)), 0) << what << ": " << key;
  }
  ASSERT_EQ(streamed.tensors().size(), whole.tensors().size()) << what;
  for (size_t t = 0; t < whole.tensors().size(); ++t) {
    const GgufTensorInfo &a = streamed.tensors()[t], &b = whole.tensors()[t];
    EXPECT_EQ(a.name, b.name) << what;
    EXPECT_EQ(a.shape, b.shape) << what << ": " << b.name;
    EXPECT_EQ(a.type, b.type) << what << ": " << b.name;
    EXPECT_EQ(a.offset, b.offset) << what << ": " << b.name;
    EXPECT_EQ(a.bytes, b.bytes) << what << ": " << b.name;
  }
  EXPECT_EQ(streamed.data_offset(), whole.data_offset()) << what;
}

// A small valid file with a few metadata types and one tensor of each type.
std::vector<uint8_t> SmallValidFile() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_bool("b", true);
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, -1});
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1});
  std::vector<uint8_t> data(34 * 2, 0x11);
  EXPECT_TRUE(w.add_tensor("a", TensorType::F32, {4}, data.data(), 16).ok());
  EXPECT_TRUE(w.add_tensor("b", TensorType::F16, {2, 2}, data.data(), 8).ok());
  EXPECT_TRUE(w.add_tensor("c", TensorType::Q4_0, {32}, data.data(), 18).ok());
  EXPECT_TRUE(w.add_tensor("d", TensorType::Q4_1, {32}, data.data(), 20).ok());
  EXPECT_TRUE(w.add_tensor("e", TensorType::Q8_0, {32, 2}, data.data(), 68).ok());
  return w.serialize();
}

TEST(GgufHostile, EveryTruncatedPrefix) {
  const std::vector<uint8_t> full = SmallValidFile();
  GgufFile parsed;
  ASSERT_TRUE(Parse(full, &parsed).ok());
  uint64_t data_end = 0;
  for (const GgufTensorInfo& t : parsed.tensors()) data_end = std::max(data_end, t.offset + t.bytes);
  for (size_t n = 0; n < full.size(); ++n) {
    // Copy the prefix into its own buffer so a read past it is caught by ASan.
    const std::vector<uint8_t> prefix(full.begin(), full.begin() + n);
    GgufFile file;
    bool need_more = true;
    // As a whole (truncated) file: an error unless only the padding after
    // the last tensor is cut; never need_more.
    Status s = GgufFile::Parse(prefix.data(), prefix.size(), prefix.size(), &file, &need_more);
    EXPECT_EQ(s.ok(), n >= data_end) << "prefix of " << n << " bytes: " << s.message();
    EXPECT_FALSE(need_more) << n;
    // As a prefix of the full file: need_more until the tensor table is in.
    s = GgufFile::Parse(prefix.data(), prefix.size(), full.size(), &file, &need_more);
    ExpectSameStreaming(prefix, full.size(), "prefix of " + std::to_string(n) + " bytes");
    // (the padding after the table is not needed, so success may come a little
    // before data_offset; from there on it must.)
    if (n >= parsed.data_offset()) {
      EXPECT_TRUE(s.ok()) << n << ": " << s.message();
    }
    if (s.ok()) {
      EXPECT_FALSE(need_more);
      EXPECT_EQ(file.tensors().size(), 5u) << n;
    } else {
      EXPECT_TRUE(need_more) << "prefix of " << n << " bytes: " << s.message();
      EXPECT_NE(s.message().find("incomplete"), std::string::npos) << s.message();
    }
  }
}

TEST(GgufHostile, SeededRandomMutations) {
  const std::vector<uint8_t> base = SmallValidFile();
  std::mt19937 rng(12345);
  const uint8_t interesting[] = {0x00, 0x01, 0x04, 0x08, 0x09, 0x0c, 0x20, 0x7f, 0x80, 0xff};
  int parsed_ok = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> bytes = base;
    const int n_edits = 1 + int(rng() % 4);
    for (int e = 0; e < n_edits; ++e) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 4) {
        case 0: bytes[at] = uint8_t(rng()); break;
        case 1: bytes[at] = interesting[rng() % sizeof(interesting)]; break;
        case 2: bytes[at] ^= uint8_t(1u << (rng() % 8)); break;
        case 3: bytes.resize(at); break;  // cut the file
      }
      if (bytes.empty()) bytes.push_back('G');
    }
    GgufFile file;
    Status s = Parse(bytes, &file);
    ExpectSameStreaming(bytes, bytes.size(), "iteration " + std::to_string(iter));
    if (iter % 4 == 0) ExpectSameStreaming(bytes, bytes.size() + 4096, "iteration " + std::to_string(iter) + " as a prefix");
    if (!s.ok()) {
      EXPECT_FALSE(s.message().empty()) << "iteration " << iter;
      continue;
    }
    ++parsed_ok;
    // Whatever parses keeps the promises a loader relies on.
    for (const GgufTensorInfo& t : file.tensors()) {
      EXPECT_EQ(t.offset % file.alignment(), 0u) << "iteration " << iter << " tensor " << t.name;
      EXPECT_LE(t.offset + t.bytes, bytes.size()) << "iteration " << iter << " tensor " << t.name;
      EXPECT_GE(t.offset, file.data_offset()) << "iteration " << iter << " tensor " << t.name;
    }
  }
  EXPECT_GT(parsed_ok, 0);  // some mutations only touch tensor data
}

TEST(GgufHostile, Header) {
  ExpectError(Raw().bytes("GGML").u32(3).u64(0).u64(0).b, "not a GGUF file (expected magic 'GGUF', found 'GGML')");
  ExpectError(Raw().bytes(std::string("\x7f" "ELF", 4)).u32(3).u64(0).u64(0).b, "found '\\x7fELF'");
  ExpectError(Raw().bytes("GG").b, "not a GGUF file (it has only 2 bytes)");
  ExpectError(Raw().header(0, 0, 1).b, "GGUF version 1 is not supported");
  ExpectError(Raw().header(0, 0, 0x03000000).b, "big-endian");
  ExpectError(Raw().bytes("GGUF").u32(3).u64(0).b, "truncated");
}

TEST(GgufHostile, HugeCounts) {
  ExpectError(Raw().header(0, uint64_t(1) << 60).b,
              "metadata count at byte 16 is 1152921504606846976, more than the rest of the file (0 bytes) can hold");
  ExpectError(Raw().header(uint64_t(1) << 62, 0).b, "tensor count");
  ExpectError(Raw().header(0, 1).u64(uint64_t(1) << 63).zeros(16).b,
              "key of metadata entry 0 at byte 24 is 9223372036854775808");
  ExpectError(Raw().header(0, 1).str("k").u32(8).u64(~uint64_t(0)).b, "value of metadata key 'k' at byte 37 is");
  // An array of 10^12 elements in a file of a few bytes.
  ExpectError(Raw().header(0, 1).str("k").u32(9).u32(0).u64(1000000000000ULL).zeros(16).b,
              "array length of metadata key 'k' at byte 41 is 1000000000000");
  ExpectError(Raw().header(0, 1).str("k").u32(9).u32(8).u64(3).str("a").u64(uint64_t(1) << 40).zeros(8).b,
              "element 1 of array 'k' at byte 58 is 1099511627776");
  ExpectError(Raw().header(0, 1).str("k").u32(9).u32(4).u64(3).u32(1).u32(2).b,
              "array length of metadata key 'k' at byte 41 is 3, more than the rest of the file (8 bytes)");
  ExpectError(Raw().header(1, 0).u64(uint64_t(1) << 62).zeros(16).b, "name of tensor 0");
}

// Parses the first `at_hand` bytes of `bytes` as the start of a file of
// `file_size` bytes (the rest of a big file not yet loaded).
Status ParsePrefixOf(const std::vector<uint8_t>& bytes, size_t at_hand, uint64_t file_size, bool* need_more) {
  GgufFile file;
  return GgufFile::Parse(bytes.data(), at_hand, file_size, &file, need_more);
}

// That parse fails for good: an error containing `substring`, not a wait
// for more bytes.
void ExpectFinalError(const std::vector<uint8_t>& bytes, size_t at_hand, uint64_t file_size, const std::string& substring) {
  bool need_more = true;
  const Status s = ParsePrefixOf(bytes, at_hand, file_size, &need_more);
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(need_more) << "a loader would wait for more bytes: " << s.message();
  EXPECT_NE(s.message().find(substring), std::string::npos) << "message: " << s.message();
}

// Headers that would fill the heap: refused from their counts, before the
// bytes arrive or memory is taken (the file is declared 4 GB long).
TEST(GgufHostile, HeaderLimits) {
  const uint64_t kFile = uint64_t(4) << 30;
  // 100 M one-byte integers: 100 MB of header, past the 64 MiB limit.
  std::vector<uint8_t> b = Raw().header(0, 1).str("k").u32(9).u32(0).u64(100000000).zeros(64).b;
  ExpectFinalError(b, b.size(), kFile,
                   "array length of metadata key 'k' at byte 41 is 100000000, more than the rest of the first 64 MiB");
  // 40 M one-byte integers fit in 64 MiB but take 320 MB once read (int64 each).
  b = Raw().header(0, 1).str("k").u32(9).u32(0).u64(40000000).zeros(64).b;
  ExpectFinalError(b, b.size(), kFile,
                   "GGUF metadata key 'k' brings the memory the header takes once read past 256 MiB");
  // A text longer than the limit.
  b = Raw().header(0, 1).str("k").u32(8).u64(uint64_t(65) << 20).zeros(64).b;
  ExpectFinalError(b, b.size(), kFile, "more than the rest of the first 64 MiB");
  // 100,000 texts of 1,000 bytes: the count fits, but the header runs past
  // 64 MiB, which shows once those bytes are at hand (before that: need more).
  Raw texts;
  texts.header(0, 1).str("k").u32(9).u32(8).u64(100000);
  const std::string text(1000, 'x');
  while (texts.b.size() < kGgufMaxHeaderBytes) texts.str(text);
  bool need_more = false;  // (set by the parse)
  Status s = ParsePrefixOf(texts.b, size_t(32) << 20, kFile, &need_more);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(need_more) << s.message();
  ExpectFinalError(texts.b, texts.b.size(), kFile,
                   "more than the rest of the first 64 MiB of the file (nibble reads headers");
}

// A prefix that is malformed before it ends is an error at once, not a wait
// for more bytes.
TEST(GgufHostile, PrefixMalformedBeforeItsEnd) {
  const uint64_t kFile = 1 << 20;
  std::vector<uint8_t> b = Raw().header(0, 2).kv_u32("a", 1).str("k").u32(13).zeros(8).b;
  ExpectFinalError(b, b.size(), kFile, "metadata key 'k' has unknown value type 13");
  b = Raw().header(0, 1).str("k").u32(9).u32(9).u64(2).zeros(8).b;
  ExpectFinalError(b, b.size(), kFile, "array of arrays");
  b = Raw().header(1, 0).tensor("w", {4, 4, 4, 4, 4}, 0, 0).b;
  ExpectFinalError(b, b.size() - 8, kFile, "has 5 dimensions");
  b = Raw().header(0, 1).str("k").u32(9).u32(8).u64(3).str("a").u64(uint64_t(1) << 40).b;
  ExpectFinalError(b, b.size(), kFile, "element 1 of array 'k' at byte 58 is 1099511627776");
  // Well formed as far as it goes: wait.
  b = Raw().header(0, 1).str("k").u32(9).u32(8).u64(3).str("a").str("bc").b;
  bool need_more = false;  // (set by the parse)
  EXPECT_FALSE(ParsePrefixOf(b, b.size(), kFile, &need_more).ok());
  EXPECT_TRUE(need_more);
}

TEST(GgufHostile, BadTypes) {
  ExpectError(Raw().header(0, 1).str("k").u32(13).u32(0).b, "metadata key 'k' has unknown value type 13");
  ExpectError(Raw().header(0, 1).str("k").u32(9).u32(99).u64(0).b, "array of unknown type 99");
  ExpectError(Raw().header(0, 1).str("k").u32(9).u32(9).u64(1).u32(4).u64(0).b, "array of arrays");
  ExpectError(Raw().header(0, 2).kv_u32("k", 1).kv_u32("k", 2).b, "'k' appears twice");
  ExpectError(Raw().header(1, 0).tensor("w", {256}, 11, 0).pad(32).zeros(110).b,
              "tensor w has type q3_k which nibble does not support");
  ExpectError(Raw().header(1, 0).tensor("w", {32}, 4, 0).pad(32).zeros(32).b, "has type id 4");
  ExpectError(Raw().header(1, 0).tensor("w", {32}, 200, 0).pad(32).zeros(32).b, "has type id 200");
}

TEST(GgufHostile, BadShapes) {
  ExpectError(Raw().header(1, 0).tensor("w", std::vector<uint64_t>(100, 1), 0, 0).b,
              "tensor w has 100 dimensions (1 to 4 allowed)");
  // n_dims 100 claimed, with no dims present.
  ExpectError(Raw().header(1, 0).str("w").u32(100).zeros(16).b, "tensor w has 100 dimensions");
  ExpectError(Raw().header(1, 0).tensor("w", {}, 0, 0).b, "tensor w has 0 dimensions");
  ExpectError(Raw().header(1, 0).tensor("w", {4, 0}, 0, 0).pad(32).zeros(32).b,
              "tensor w has dimension 1 = 0 (must be positive)");
  ExpectError(Raw().header(1, 0).tensor("w", {~uint64_t(0)}, 0, 0).pad(32).b, "(must be positive)");
  ExpectError(Raw().header(1, 0).tensor("w", {uint64_t(1) << 40, uint64_t(1) << 40}, 0, 0).pad(32).b,
              "tensor w has shape 1099511627776 x 1099511627776 whose size overflows");
  ExpectError(Raw().header(1, 0).tensor("w", {uint64_t(1) << 62}, 0, 0).pad(32).b, "overflows");
  ExpectError(Raw().header(1, 0).tensor("w", {33}, 2, 0).pad(32).zeros(64).b,
              "tensor w has rows of 33 elements, not a multiple of q4_0's block size 32");
  // The K-quants' 256-weight blocks and the other new types.
  ExpectError(Raw().header(1, 0).tensor("w", {192, 2}, 12, 0).pad(32).zeros(512).b,
              "tensor w has rows of 192 elements, not a multiple of q4_k's block size 256");
  ExpectError(Raw().header(1, 0).tensor("w", {320}, 14, 0).pad(32).zeros(512).b,
              "tensor w has rows of 320 elements, not a multiple of q6_k's block size 256");
  ExpectError(Raw().header(1, 0).tensor("w", {48}, 20, 0).pad(32).zeros(64).b,
              "tensor w has rows of 48 elements, not a multiple of iq4_nl's block size 32");
}

// A tensor's bytes follow from its type and shape; a file too short for
// them (the data of a Q6_K matrix of 2 rows is 420 bytes) is refused naming it.
TEST(GgufHostile, KQuantTensorShorterThanItsTypeAndShape) {
  Raw r = Raw().header(1, 0).tensor("blk.0.ffn_down.weight", {256, 2}, 14, 0);
  r.pad(32);
  const size_t start = r.b.size();
  r.zeros(419);
  ExpectError(r.b, "tensor blk.0.ffn_down.weight is truncated: needs bytes [" + std::to_string(start) + ", " +
                       std::to_string(start + 420) + ")");
}

TEST(GgufHostile, BadOffsetsAndAlignment) {
  ExpectError(Raw().header(1, 0).tensor("w", {4}, 0, 8).pad(32).zeros(64).b,
              "tensor w has data offset 8, not a multiple of the alignment 32");
  // 16 bytes needed at [64, 80) of a 70-byte file.
  Raw short_data = Raw().header(1, 0).tensor("blk.3.attn_q.weight", {4}, 0, 0);
  short_data.pad(32);
  const size_t data_start = short_data.b.size();
  short_data.zeros(6);
  ExpectError(short_data.b, "tensor blk.3.attn_q.weight is truncated: needs bytes [" + std::to_string(data_start) +
                                ", " + std::to_string(data_start + 16) + ") but the file has " +
                                std::to_string(data_start + 6));
  ExpectError(Raw().header(1, 0).tensor("w", {4}, 0, uint64_t(1) << 40).pad(32).zeros(32).b,
              "tensor w is truncated");
  ExpectError(Raw().header(1, 0).tensor("w", {4}, 0, ~uint64_t(31)).pad(32).zeros(32).b, "tensor w is truncated");
  ExpectError(Raw().header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {4}, 0, 32).pad(32).zeros(64).b,
              "tensors a and b overlap");
  ExpectError(Raw().header(2, 0).tensor("a", {4}, 0, 0).tensor("a", {4}, 0, 32).pad(32).zeros(64).b,
              "tensor name 'a' appears twice");
  ExpectError(Raw().header(0, 1).kv_u32("general.alignment", 48).b,
              "general.alignment must be a power of two up to 2^30, found 48");
  ExpectError(Raw().header(0, 1).kv_u32("general.alignment", 0).b, "must be a power of two");
  ExpectError(Raw().header(0, 1).str("general.alignment").u32(8).str("32").b,
              "general.alignment must be an integer, found string");
  // A valid non-default alignment is honoured.
  GgufFile file;
  Raw ok = Raw().header(1, 1).kv_u32("general.alignment", 8).tensor("w", {2}, 0, 8);
  ok.pad(8).zeros(16);
  Status s = Parse(ok.b, &file);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(file.alignment(), 8u);
  EXPECT_EQ(file.find_tensor("w")->offset, file.data_offset() + 8);
}

TEST(GgufHostile, BadArguments) {
  const std::vector<uint8_t> bytes = SmallValidFile();
  GgufFile file;
  Status s = GgufFile::Parse(bytes.data(), bytes.size(), bytes.size() - 1, &file);
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument) << s.message();
  s = GgufFile::Parse(nullptr, 10, 10, &file);
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument) << s.message();
}

}  // namespace
}  // namespace nibble
