// llama.cpp's imatrix GGUF file: llama-imatrix's output of the quality
// fixtures reads (36 matrices, their sums and counts) and writes back byte
// for byte; the optional Σx (in_sum) of newer files reads and writes; files that are not one are refused with a message naming why.
#include <gtest/gtest.h>

#include <cstring>

#include "format/gguf.h"
#include "format/imatrix_gguf.h"
#include "support/fixture_util.h"

namespace nibble {
namespace {

const char kFile[] = "tests/fixtures/quality/imatrix.gguf";

TEST(ImatrixGguf, ReadsLlamaImatrixAndWritesItBackByteForByte) {
  const std::vector<uint8_t> bytes = read_fixture(kFile);
  ImportanceMatrix m;
  const Status s = read_imatrix_gguf(bytes.data(), bytes.size(), &m);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(m.tensors.size(), 36u);
  EXPECT_EQ(m.datasets, std::vector<std::string>{"calib.txt"});
  EXPECT_EQ(m.chunk_count, 39u);
  EXPECT_EQ(m.chunk_size, 256u);
  const ImportanceMatrix::Entry& q = m.tensors.at("blk.0.attn_q.weight");
  EXPECT_EQ(q.sums.size(), 64u);
  EXPECT_EQ(q.count, 9984.0f);
  EXPECT_EQ(m.tensors.at("blk.0.ffn_down.weight").sums.size(), 172u);
  std::vector<float> w;
  ASSERT_TRUE(m.column_weights("blk.0.attn_q.weight", 64, &w));
  EXPECT_EQ(w[3], q.sums[3] / 9984.0f);
  EXPECT_FALSE(m.column_weights("blk.0.attn_q.weight", 172, &w));  // wrong width
  EXPECT_FALSE(m.column_weights("token_embd.weight", 64, &w));     // no data

  EXPECT_TRUE(q.value_sums.empty());  // no in_sum in this older file

  std::vector<uint8_t> written;
  ASSERT_TRUE(write_imatrix_gguf(m, &written).ok());
  EXPECT_EQ(written, bytes);
}

// Newer llama-imatrix files add <name>.in_sum (Σx per column): read and
// written back; one of another shape is refused.
TEST(ImatrixGguf, ColumnSumsWhenPresent) {
  ImportanceMatrix m;
  ImportanceMatrix::Entry& e = m.tensors["blk.0.attn_q.weight"];
  e.sums = {4, 9, 1, 16};
  e.value_sums = {2, -3, 1, 0};
  e.count = 2;
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(write_imatrix_gguf(m, &bytes).ok());
  ImportanceMatrix back;
  ASSERT_TRUE(read_imatrix_gguf(bytes.data(), bytes.size(), &back).ok());
  EXPECT_EQ(back.tensors.at("blk.0.attn_q.weight").value_sums, (std::vector<float>{2, -3, 1, 0}));

  GgufWriter bad;
  bad.set_string("general.type", "imatrix");
  const float sums[4] = {1, 2, 3, 4}, count = 3, value_sums[2] = {1, 2};
  ASSERT_TRUE(bad.add_tensor("w.in_sum2", TensorType::F32, {4}, sums, sizeof(sums)).ok());
  ASSERT_TRUE(bad.add_tensor("w.counts", TensorType::F32, {1}, &count, sizeof(count)).ok());
  ASSERT_TRUE(bad.add_tensor("w.in_sum", TensorType::F32, {2}, value_sums, sizeof(value_sums)).ok());
  bytes = bad.serialize();
  const Status s = read_imatrix_gguf(bytes.data(), bytes.size(), &back);
  EXPECT_NE(s.message().find("shape"), std::string::npos) << s.message();
}

TEST(ImatrixGguf, RefusesWhatIsNotOne) {
  ImportanceMatrix m;
  const uint8_t dat[] = {36, 0, 0, 0, 1, 2, 3, 4};  // the older binary format starts with a count
  Status s = read_imatrix_gguf(dat, sizeof(dat), &m);
  EXPECT_NE(s.message().find("older .dat format"), std::string::npos) << s.message();

  GgufWriter model;
  model.set_string("general.type", "model");
  std::vector<uint8_t> bytes = model.serialize();
  s = read_imatrix_gguf(bytes.data(), bytes.size(), &m);
  EXPECT_NE(s.message().find("not an importance matrix"), std::string::npos) << s.message();

  GgufWriter experts;
  experts.set_string("general.type", "imatrix");
  const float sums[8] = {1, 2, 3, 4, 5, 6, 7, 8}, counts[2] = {3, 4};
  ASSERT_TRUE(experts.add_tensor("blk.0.ffn_up_exps.weight.in_sum2", TensorType::F32, {4, 2}, sums, sizeof(sums)).ok());
  ASSERT_TRUE(experts.add_tensor("blk.0.ffn_up_exps.weight.counts", TensorType::F32, {2}, counts, sizeof(counts)).ok());
  bytes = experts.serialize();
  s = read_imatrix_gguf(bytes.data(), bytes.size(), &m);
  EXPECT_NE(s.message().find("per expert"), std::string::npos) << s.message();
  EXPECT_TRUE(m.tensors.empty());  // untouched on failure
}

}  // namespace
}  // namespace nibble
