// Block formats, the traits table, the round-to-nearest reference quantizers
// (byte-identical to llama.cpp's rules) and quantize_matrix's input checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "quant/block_formats.h"
#include "quant/fp16.h"
#include "quant/quantize.h"
#include "quant_test_data.h"

namespace nibble {
namespace {

using testdata::Dist;
using Bytes = std::vector<uint8_t>;

// ---- Straight transcriptions of llama.cpp's reference rules, one block each.

void push_fp16(float v, Bytes* out) {
  const uint16_t h = fp32_to_fp16(v);
  out->push_back(uint8_t(h & 0xff));  // GGUF is little-endian
  out->push_back(uint8_t(h >> 8));
}

Bytes transcribed_q4_0(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < 32; j++) {
    const float v = x[j];
    if (amax < fabsf(v)) {
      amax = fabsf(v);
      max = v;
    }
  }
  const float d = max / -8;
  const float id = d ? 1.0f / d : 0.0f;
  Bytes out;
  push_fp16(d, &out);
  for (int j = 0; j < 16; ++j) {
    const int8_t lo = int8_t(x[j] * id + 8.5f);
    const int8_t hi = int8_t(x[j + 16] * id + 8.5f);
    out.push_back(uint8_t(std::min<int>(15, lo) | (std::min<int>(15, hi) << 4)));
  }
  return out;
}

Bytes transcribed_q4_1(const float* x) {
  float min = 3.402823466e+38f, max = -3.402823466e+38f;
  for (int j = 0; j < 32; j++) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  const float d = (max - min) / 15;
  const float id = d ? 1.0f / d : 0.0f;
  Bytes out;
  push_fp16(d, &out);
  push_fp16(min, &out);
  for (int j = 0; j < 16; ++j) {
    const int8_t lo = int8_t((x[j] - min) * id + 0.5f);
    const int8_t hi = int8_t((x[j + 16] - min) * id + 0.5f);
    out.push_back(uint8_t(std::min<int>(15, lo) | (std::min<int>(15, hi) << 4)));
  }
  return out;
}

Bytes transcribed_q8_0(const float* x) {
  float amax = 0.0f;
  for (int j = 0; j < 32; j++) amax = std::max(amax, fabsf(x[j]));
  const float d = amax / 127;
  const float id = d ? 1.0f / d : 0.0f;
  Bytes out;
  push_fp16(d, &out);
  for (int j = 0; j < 32; ++j) out.push_back(uint8_t(int8_t(roundf(x[j] * id))));
  return out;
}

// Quantizes x with the traits row of `type` (round-to-nearest).
Bytes quantize_rtn(TensorType type, const std::vector<float>& x) {
  const BlockTraits* t = block_traits(type);
  Bytes out(row_size(type, int64_t(x.size())));
  t->quantize(x.data(), out.data(), int64_t(x.size()), QuantizeOptions{});
  return out;
}

std::string hex(const uint8_t* b, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x ", b[i]);
    s += buf;
  }
  return s;
}

// ---- The traits table.

TEST(BlockTraits, TableRows) {
  struct Row { TensorType type; const char* name; int block; size_t bytes; bool quantized; };
  const Row rows[] = {{TensorType::F32, "f32", 1, 4, false},
                      {TensorType::F16, "f16", 1, 2, false},
                      {TensorType::Q4_0, "q4_0", 32, 18, true},
                      {TensorType::Q4_1, "q4_1", 32, 20, true},
                      {TensorType::Q8_0, "q8_0", 32, 34, true}};
  for (const Row& r : rows) {
    const BlockTraits* t = block_traits(r.type);
    ASSERT_NE(t, nullptr) << r.name;
    EXPECT_EQ(t->type, r.type);
    EXPECT_STREQ(t->name, r.name);
    EXPECT_EQ(t->block_size, r.block) << r.name;
    EXPECT_EQ(t->block_bytes, r.bytes) << r.name;
    EXPECT_EQ(t->is_quantized, r.quantized) << r.name;
    EXPECT_NE(t->quantize, nullptr) << r.name;
    EXPECT_NE(t->dequantize, nullptr) << r.name;
  }
  EXPECT_EQ(block_traits(TensorType(11)), nullptr);
}

TEST(TensorTypeTable, DerivedListsAndLookups) {
  for (int i = 0; i < kTensorTypeCount; ++i) {
    const TensorTypeInfo& row = kTensorTypes[i];
    EXPECT_EQ(tensor_type_index(row.type), i) << row.name;
    EXPECT_STREQ(block_traits(row.type)->name, row.name);
    EXPECT_EQ(tensor_type_by_name(row.name), &row);
  }
  EXPECT_EQ(tensor_type_info(TensorType(11)), nullptr);  // q3_k: not a row
  EXPECT_EQ(default_quantize_type(), TensorType::Q4_0);
  EXPECT_EQ(tensor_type_names(nullptr, false), "f32, f16, q4_0, q4_1, q5_0, q5_1, q8_0, q4_k, q5_k, q6_k, iq4_nl");
  EXPECT_EQ(tensor_type_names(&TensorTypeInfo::can_quantize_to, true),
            "'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q8_0', 'q4_k', 'q5_k', 'q6_k', 'iq4_nl'");
  EXPECT_EQ(tensor_type_names(&TensorTypeInfo::holds_weights, false),
            "f32, q4_0, q4_1, q5_0, q5_1, q8_0, q4_k, q5_k, q6_k, iq4_nl");
  EXPECT_EQ(tensor_type_names(&TensorTypeInfo::has_kernels, false), "f32, q4_0, q4_1, q5_0, q5_1, q8_0, q4_k, q5_k, q6_k, iq4_nl");
  EXPECT_DOUBLE_EQ(tensor_type_info(TensorType::Q4_0)->bits_per_weight(), 4.5);
}

// first_non_finite_scale finds the first block with an inf or NaN scale
// anywhere (both fp16 scales of Q4_1, the scale at the end of Q6_K), first,
// last and in between (the edges of the 64-block chunks it once checked at a
// time), and none in the blocks before it.
TEST(TensorTypeTable, FirstNonFiniteScaleFindsTheFirstBlock) {
  for (TensorType type : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q6_K}) {
    const TensorTypeInfo& info = *tensor_type_info(type);
    const int64_t count = 200;
    for (int64_t bad : {-1, 0, 1, 63, 64, 65, 127, 128, 199}) {
      for (int which = 0; which < info.fp16_scales; ++which) {
        std::vector<uint8_t> blocks(size_t(count) * info.block_bytes, 0x11);  // finite scales
        if (bad >= 0) {
          const uint16_t h = which ? 0x7e00 : 0xfc00;  // NaN, -inf
          std::memcpy(&blocks[size_t(bad) * info.block_bytes + info.fp16_scales_offset + 2 * which], &h, 2);
        }
        EXPECT_EQ(first_non_finite_scale(info, blocks.data(), count), bad) << info.name << " block " << bad;
        if (bad > 0) {
          EXPECT_EQ(first_non_finite_scale(info, blocks.data(), bad), -1);  // the blocks before it
        }
      }
    }
  }
}

TEST(BlockTraits, LookupByNameIgnoresCase) {
  EXPECT_EQ(block_traits_by_name("q4_0"), block_traits(TensorType::Q4_0));
  EXPECT_EQ(block_traits_by_name("Q4_0"), block_traits(TensorType::Q4_0));
  EXPECT_EQ(block_traits_by_name("Q4_1"), block_traits(TensorType::Q4_1));
  EXPECT_EQ(block_traits_by_name("q8_0"), block_traits(TensorType::Q8_0));
  EXPECT_EQ(block_traits_by_name("F16"), block_traits(TensorType::F16));
  EXPECT_EQ(block_traits_by_name("f32"), block_traits(TensorType::F32));
  EXPECT_EQ(block_traits_by_name("q4"), nullptr);
  EXPECT_EQ(block_traits_by_name("q4_0x"), nullptr);
  EXPECT_EQ(block_traits_by_name(""), nullptr);
  EXPECT_EQ(block_traits_by_name(nullptr), nullptr);
}

TEST(BlockTraits, RowSize) {
  EXPECT_EQ(row_size(TensorType::Q4_0, 4096), 128u * 18u);
  EXPECT_EQ(row_size(TensorType::Q4_1, 64), 40u);
  EXPECT_EQ(row_size(TensorType::Q8_0, 32), 34u);
  EXPECT_EQ(row_size(TensorType::F32, 7), 28u);
  EXPECT_EQ(row_size(TensorType::F16, 7), 14u);
  EXPECT_EQ(row_size(TensorType::Q4_0, 33), 0u);
  EXPECT_EQ(row_size(TensorType::Q4_0, 0), 0u);
  EXPECT_EQ(row_size(TensorType(11), 256), 0u);
}

TEST(BlockTraits, FloatTypesRoundTrip) {
  const std::vector<float> x = {1.0f, -2.5f, 65504.0f, 1e-8f, 0.1f, -0.0f, 3.0e5f};
  const BlockTraits* f32 = block_traits(TensorType::F32);
  std::vector<float> copy(x.size());
  Bytes bytes(row_size(TensorType::F32, 7));
  f32->quantize(x.data(), bytes.data(), 7, QuantizeOptions{});
  f32->dequantize(bytes.data(), copy.data(), 7);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(f32_bits(copy[i]), f32_bits(x[i])) << "index " << i;

  const BlockTraits* f16 = block_traits(TensorType::F16);
  bytes.assign(row_size(TensorType::F16, 7), 0);
  f16->quantize(x.data(), bytes.data(), 7, QuantizeOptions{});
  f16->dequantize(bytes.data(), copy.data(), 7);
  for (size_t i = 0; i < x.size(); ++i) {
    const uint16_t h = uint16_t(bytes[2 * i] | (bytes[2 * i + 1] << 8));
    EXPECT_EQ(h, fp32_to_fp16(x[i])) << "index " << i;
    EXPECT_EQ(f32_bits(copy[i]), f32_bits(fp16_to_fp32(fp32_to_fp16(x[i])))) << "index " << i;
  }
}

// ---- Round-to-nearest: byte-identical to the transcribed rules.

using Transcription = Bytes (*)(const float*);

void expect_matches_transcription(TensorType type, Transcription expected_block) {
  const Dist dists[] = {Dist::kNormal, Dist::kUniform, Dist::kHeavyTailed, Dist::kOutliers,
                        Dist::kSmallIntegers, Dist::kZeros, Dist::kConstant, Dist::kSparse};
  // 1e6 overflows the fp16 scale to inf, 1e-6 makes it subnormal, 1e-20 and
  // 1e-30 round it to zero while 1/d is still finite.
  const float magnitudes[] = {1.0f, 0.02f, 1e-3f, 1e-6f, 1e-20f, 1e-30f, 7.0f, 1e3f, 1e5f, 1e6f};
  const size_t block_bytes = block_traits(type)->block_bytes;
  testdata::Rng rng(1234);
  int blocks_checked = 0;
  for (int trial = 0; trial < 40; ++trial) {
    for (float magnitude : magnitudes) {
      // A row of 8 blocks mixing the distributions.
      std::vector<float> row;
      for (int b = 0; b < 8; ++b) testdata::append_block(dists[(trial + b) % 8], magnitude, rng, &row);
      const Bytes got = quantize_rtn(type, row);
      for (int b = 0; b < 8; ++b) {
        const Bytes want = expected_block(&row[size_t(b) * 32]);
        const uint8_t* have = &got[b * block_bytes];
        ASSERT_EQ(want.size(), block_bytes);
        ASSERT_EQ(std::memcmp(want.data(), have, block_bytes), 0)
            << block_traits(type)->name << " trial " << trial << " magnitude " << magnitude << " block " << b
            << " (" << testdata::dist_name(dists[(trial + b) % 8]) << ")\n  expected "
            << hex(want.data(), block_bytes) << "\n  got      " << hex(have, block_bytes) << "\n  "
            << testdata::block_values(&row[size_t(b) * 32]);
        ++blocks_checked;
      }
    }
  }
  EXPECT_EQ(blocks_checked, 40 * 10 * 8);
}

TEST(RoundToNearest, Q4_0MatchesLlamaCppRule) { expect_matches_transcription(TensorType::Q4_0, transcribed_q4_0); }
TEST(RoundToNearest, Q4_1MatchesLlamaCppRule) { expect_matches_transcription(TensorType::Q4_1, transcribed_q4_1); }
TEST(RoundToNearest, Q8_0MatchesLlamaCppRule) { expect_matches_transcription(TensorType::Q8_0, transcribed_q8_0); }

// ---- Golden blocks, bytes worked out by hand.

void expect_block_bytes(TensorType type, const std::vector<float>& x, const Bytes& want) {
  const Bytes got = quantize_rtn(type, x);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want) << block_traits(type)->name << "\n  expected " << hex(want.data(), want.size())
                       << "\n  got      " << hex(got.data(), got.size());
}

Bytes with_scales(std::initializer_list<uint8_t> head, const Bytes& tail) {
  Bytes b(head);
  b.insert(b.end(), tail.begin(), tail.end());
  return b;
}

TEST(RoundToNearest, Q4_0Golden) {
  // x = j − 8 in both halves: max = −8 (first of largest magnitude), d = 1
  // (fp16 3c00), q = x + 8 = j, so byte j = j | j << 4.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = float(j % 16) - 8.0f;
  Bytes qs;
  for (int j = 0; j < 16; ++j) qs.push_back(uint8_t(j | (j << 4)));
  expect_block_bytes(TensorType::Q4_0, x, with_scales({0x00, 0x3c}, qs));

  // x0 = 4, x17 = −2, rest 0: d = 4/−8 = −0.5 (b800), id = −2;
  // q0 = trunc(−8 + 8.5) = 0, zeros -> 8, q17 = trunc(4 + 8.5) = 12.
  x.assign(32, 0.0f);
  x[0] = 4.0f;
  x[17] = -2.0f;
  qs.assign(16, 0x88);
  qs[0] = 0x80;
  qs[1] = 0xc8;
  expect_block_bytes(TensorType::Q4_0, x, with_scales({0x00, 0xb8}, qs));

  // A tie: x3 = −3 comes before x9 = 3, so max = −3, d = 0.375 (3600), id = 8/3;
  // q3 = trunc(−8 + 8.5) = 0, q9 = min(15, trunc(8 + 8.5)) = 15.
  x.assign(32, 0.0f);
  x[3] = -3.0f;
  x[9] = 3.0f;
  qs.assign(16, 0x88);
  qs[3] = 0x80;
  qs[9] = 0x8f;
  expect_block_bytes(TensorType::Q4_0, x, with_scales({0x00, 0x36}, qs));
  // The same tie the other way round flips the sign of d.
  std::swap(x[3], x[9]);
  expect_block_bytes(TensorType::Q4_0, x, with_scales({0x00, 0xb6}, qs));

  // All zeros: d = 0/−8 = −0 (8000), id = 0, every q = trunc(8.5) = 8.
  x.assign(32, 0.0f);
  expect_block_bytes(TensorType::Q4_0, x, with_scales({0x00, 0x80}, Bytes(16, 0x88)));

  // Scale underflow: d = 1e−39/−8 is so small that 1/d is infinite; llama.cpp
  // (x86) gets code 0 everywhere, and d rounds to fp16 −0.
  x[5] = 1e-39f;
  expect_block_bytes(TensorType::Q4_0, x, with_scales({0x00, 0x80}, Bytes(16, 0x00)));
}

TEST(RoundToNearest, Q4_1Golden) {
  // x = (j mod 16) − 3: min = −3 (c200), max = 12, d = 1 (3c00), q = j mod 16.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = float(j % 16) - 3.0f;
  Bytes qs;
  for (int j = 0; j < 16; ++j) qs.push_back(uint8_t(j | (j << 4)));
  expect_block_bytes(TensorType::Q4_1, x, with_scales({0x00, 0x3c, 0x00, 0xc2}, qs));

  // Constant 2.5: d = 0, m = 2.5 (4100), every q = trunc(0.5) = 0.
  x.assign(32, 2.5f);
  expect_block_bytes(TensorType::Q4_1, x, with_scales({0x00, 0x00, 0x00, 0x41}, Bytes(16, 0x00)));
}

TEST(RoundToNearest, Q8_0Golden) {
  // amax = 127 -> d = 1 (3c00); roundf: −63.5 -> −64 (c0), 0.5 -> 1, −1.49 -> −1.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = -63.5f;
  x[2] = 0.5f;
  x[3] = -1.49f;
  Bytes qs(32, 0x00);
  qs[0] = 0x7f;
  qs[1] = 0xc0;
  qs[2] = 0x01;
  qs[3] = 0xff;
  expect_block_bytes(TensorType::Q8_0, x, with_scales({0x00, 0x3c}, qs));
}

TEST(Dequantize, GoldenValues) {
  // Q4_0 d = 0.5: y = 0.5·(q − 8). Byte 0 = 0xf0 -> q0 = 0, q16 = 15.
  BlockQ4_0 b0;
  b0.d = fp32_to_fp16(0.5f);
  std::memset(b0.qs, 0x88, sizeof b0.qs);
  b0.qs[0] = 0xf0;
  float y[32];
  block_traits(TensorType::Q4_0)->dequantize(&b0, y, 32);
  EXPECT_EQ(y[0], -4.0f);
  EXPECT_EQ(y[16], 3.5f);
  EXPECT_EQ(y[1], 0.0f);

  // Q4_1 d = 0.25, m = −1: y = 0.25·q − 1.
  BlockQ4_1 b1;
  b1.d = fp32_to_fp16(0.25f);
  b1.m = fp32_to_fp16(-1.0f);
  std::memset(b1.qs, 0x00, sizeof b1.qs);
  b1.qs[2] = 0x5f;
  block_traits(TensorType::Q4_1)->dequantize(&b1, y, 32);
  EXPECT_EQ(y[2], 2.75f);
  EXPECT_EQ(y[18], 0.25f);
  EXPECT_EQ(y[0], -1.0f);

  // Q8_0 d = 2: y = 2·q.
  BlockQ8_0 b8;
  b8.d = fp32_to_fp16(2.0f);
  for (int j = 0; j < 32; ++j) b8.qs[j] = int8_t(j - 16);
  block_traits(TensorType::Q8_0)->dequantize(&b8, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 2.0f * float(j - 16)) << "index " << j;
}

TEST(RoundToNearest, ErrorWithinAStep) {
  // Each value within half a step of its reconstruction, plus the fp16
  // rounding of the scale (2^-11 relative) times the largest level. Q4_0's
  // levels are −8..7, so values of the sign opposite to the largest one may
  // be clipped at 7·d: up to a whole step away.
  testdata::Rng rng(99);
  std::vector<float> x;
  for (int b = 0; b < 64; ++b) testdata::append_block(Dist::kNormal, 1.0f, rng, &x);
  for (TensorType type : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q8_0}) {
    const Bytes q = quantize_rtn(type, x);
    std::vector<float> y(x.size());
    block_traits(type)->dequantize(q.data(), y.data(), int64_t(x.size()));
    for (size_t b = 0; b < x.size() / 32; ++b) {
      const float* xb = &x[b * 32];
      const float lo = *std::min_element(xb, xb + 32), hi = *std::max_element(xb, xb + 32);
      float bound = 0;
      if (type == TensorType::Q4_0) {
        const float step = std::max(-lo, hi) / 8.0f;
        bound = step + 8.0f * step / 2048.0f;
      } else if (type == TensorType::Q4_1) {
        const float step = (hi - lo) / 15.0f;
        bound = 0.5f * step + 15.0f * step / 2048.0f + std::fabs(lo) / 2048.0f;
      } else {
        const float step = std::max(-lo, hi) / 127.0f;
        bound = 0.5f * step + 127.0f * step / 2048.0f;
      }
      for (int j = 0; j < 32; ++j) {
        ASSERT_LE(std::fabs(xb[j] - y[b * 32 + j]), bound * 1.0001f)
            << block_traits(type)->name << " block " << b << " index " << j << " x " << xb[j] << " y "
            << y[b * 32 + j];
      }
    }
  }
}

// ---- quantize_matrix / dequantize_matrix.

TEST(QuantizeMatrix, MatchesRowByRow) {
  const int64_t rows = 5, cols = 96;
  testdata::Rng rng(7);
  std::vector<float> x;
  for (int b = 0; b < rows * cols / 32; ++b) testdata::append_block(Dist::kNormal, 0.1f, rng, &x);
  const std::vector<float> importance = testdata::random_importance(cols, rng);
  for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q8_0}) {
    for (ClipMode clip : {ClipMode::kNone, ClipMode::kMse}) {
      QuantizeOptions options;
      options.clip = clip;
      options.importance = importance.data();
      const size_t row_bytes = row_size(type, cols);
      Bytes got(rows * row_bytes), want(rows * row_bytes);
      ASSERT_TRUE(quantize_matrix(type, x.data(), rows, cols, options, got.data(), got.size()).ok());
      for (int64_t r = 0; r < rows; ++r) {
        block_traits(type)->quantize(&x[r * cols], &want[r * row_bytes], cols, options);
      }
      EXPECT_EQ(got, want) << block_traits(type)->name << " clip " << int(clip);

      std::vector<float> y(x.size()), y_rows(x.size());
      ASSERT_TRUE(dequantize_matrix(type, got.data(), got.size(), rows, cols, y.data()).ok());
      block_traits(type)->dequantize(got.data(), y_rows.data(), rows * cols);
      EXPECT_EQ(y, y_rows) << block_traits(type)->name;
    }
  }
}

TEST(QuantizeMatrix, RejectsRowLengthNotMultipleOfBlock) {
  std::vector<float> x(2 * 100, 1.0f);
  Bytes out(4096);
  const Status s = quantize_matrix(TensorType::Q4_0, x.data(), 2, 100, QuantizeOptions{}, out.data(), out.size());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(s.message().find("100"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("q4_0"), std::string::npos) << s.message();
  // F32 has block size 1: any K is fine.
  EXPECT_TRUE(quantize_matrix(TensorType::F32, x.data(), 2, 100, QuantizeOptions{}, out.data(), out.size()).ok());
}

TEST(QuantizeMatrix, RejectsNonFiniteInputWithItsIndex) {
  std::vector<float> x(3 * 64, 0.5f);
  Bytes out(row_size(TensorType::Q4_1, 64) * 3, 0xab);
  x[2 * 64 + 37] = NAN;
  x[2 * 64 + 40] = INFINITY;
  Status s = quantize_matrix(TensorType::Q4_1, x.data(), 3, 64, QuantizeOptions{}, out.data(), out.size());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(s.message().find("165"), std::string::npos) << s.message();  // 2·64 + 37
  EXPECT_NE(s.message().find("NaN"), std::string::npos) << s.message();
  EXPECT_EQ(out, Bytes(out.size(), 0xab)) << "nothing is written on failure";

  x[2 * 64 + 37] = 0.0f;
  x[5] = -INFINITY;
  s = quantize_matrix(TensorType::Q4_1, x.data(), 3, 64, QuantizeOptions{}, out.data(), out.size());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("value 5 "), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("infinite"), std::string::npos) << s.message();
}

TEST(QuantizeMatrix, RejectsBadImportanceAndSmallOutput) {
  std::vector<float> x(2 * 64, 0.5f);
  std::vector<float> importance(64, 1.0f);
  importance[9] = -1.0f;
  Bytes out(row_size(TensorType::Q4_0, 64) * 2);
  QuantizeOptions options;
  options.clip = ClipMode::kMse;
  options.importance = importance.data();
  Status s = quantize_matrix(TensorType::Q4_0, x.data(), 2, 64, options, out.data(), out.size());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("importance[9]"), std::string::npos) << s.message();
  importance[9] = NAN;
  EXPECT_FALSE(quantize_matrix(TensorType::Q4_0, x.data(), 2, 64, options, out.data(), out.size()).ok());

  s = quantize_matrix(TensorType::Q4_0, x.data(), 2, 64, QuantizeOptions{}, out.data(), out.size() - 1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), ErrorKind::kOutOfRange);
  EXPECT_NE(s.message().find("72"), std::string::npos) << s.message();  // 2 rows · 2 blocks · 18 bytes

  s = quantize_matrix(TensorType(11), x.data(), 2, 64, QuantizeOptions{}, out.data(), out.size());
  EXPECT_FALSE(s.ok());
}

TEST(QuantizeMatrix, DequantizeChecksSize) {
  Bytes data(row_size(TensorType::Q8_0, 64) * 2);
  std::vector<float> y(128);
  EXPECT_TRUE(dequantize_matrix(TensorType::Q8_0, data.data(), data.size(), 2, 64, y.data()).ok());
  const Status s = dequantize_matrix(TensorType::Q8_0, data.data(), data.size() - 1, 2, 64, y.data());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), ErrorKind::kOutOfRange);
  EXPECT_FALSE(dequantize_matrix(TensorType::Q8_0, data.data(), data.size(), 2, 48, y.data()).ok());
}

TEST(ErrorStats, KnownValues) {
  const float x[4] = {1.0f, -1.0f, 2.0f, 0.0f};
  const float y[4] = {1.0f, -1.0f, 2.0f, 0.0f};
  ErrorStats s = error_stats(x, y, 4);
  EXPECT_EQ(s.rmse, 0.0);
  EXPECT_EQ(s.max_abs, 0.0);
  EXPECT_TRUE(std::isinf(s.sqnr_db));
  EXPECT_DOUBLE_EQ(s.cosine, 1.0);
  const float z[4] = {1.0f, -1.0f, 1.0f, 1.0f};  // errors 0, 0, 1, −1
  s = error_stats(x, z, 4);
  EXPECT_DOUBLE_EQ(s.rmse, std::sqrt(0.5));
  EXPECT_DOUBLE_EQ(s.max_abs, 1.0);
  EXPECT_DOUBLE_EQ(s.sqnr_db, 10.0 * std::log10(6.0 / 2.0));
  EXPECT_DOUBLE_EQ(s.cosine, 4.0 / std::sqrt(6.0 * 4.0));
}

}  // namespace
}  // namespace nibble
