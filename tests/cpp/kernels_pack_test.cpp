// PackedWeights: exact round trip to GGUF bytes, validation messages, moves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/packed_weights.h"
#include "support/kernel_test_util.h"

namespace nibble {
namespace {

using namespace kerneltest;

// Any byte pattern at all (scales included: NaN payloads, subnormals, ±0,
// infinities) comes back byte-identical.
TEST(KernelsPack, RoundTripIsByteIdentical) {
  Rng rng(11);
  for (TensorType type : {TensorType::F32, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,
                          TensorType::IQ4_NL, TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K}) {
    for (int64_t N : {1, 2, 3, 4, 5, 8, 17, 64}) {
      for (int64_t K : {32, 96, 256, 512}) {
        if (K % tensor_type_info(type)->block_size != 0) continue;
        const size_t bytes = size_t(N) * row_size(type, K) ;
        std::vector<uint8_t> gguf(bytes);
        for (auto& b : gguf) b = uint8_t(rng());
        PackedWeights p;
        Status s = PackedWeights::Pack(type, gguf.data(), bytes, N, K, &p);
        ASSERT_TRUE(s.ok()) << s.message();
        EXPECT_EQ(p.type(), type);
        EXPECT_EQ(p.rows(), N);
        EXPECT_EQ(p.cols(), K);
        EXPECT_EQ(p.gguf_bytes(), bytes);
        EXPECT_GE(p.bytes(), bytes);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(p.data()) % 64, 0u);
        std::vector<uint8_t> back(bytes, 0xAB);
        p.unpack_to_gguf(back.data());
        for (size_t i = 0; i < bytes; ++i) {
          ASSERT_EQ(gguf[i], back[i]) << "type " << int(type) << " N=" << N << " K=" << K << " byte " << i;
        }
      }
    }
  }
}

// Packing whole groups with shuffles (panel_pack.h), at once or in pieces,
// gives the per-weight walk's bytes, the whole buffer (alignment tail included), for random bytes
// (any scale bits) over seeded shapes: N with and without padding rows, odd
// and even group counts (relaxed builds pair groups), one block or several.
TEST(KernelsPack, FastPackingMatchesPerWeightPacking) {
  Rng rng(29);
  // (The types with whole-group packing: has_fast_pack; the rarer ones
  // Q4_1, Q5_1, IQ4_NL and Q5_K are packed per weight only.)
  for (TensorType type : {TensorType::Q4_0, TensorType::Q5_0, TensorType::Q8_0, TensorType::Q4_K, TensorType::Q6_K}) {
    ASSERT_TRUE(PackedWeights::packs_in_pieces(type)) << tensor_type_info(type)->name;
    const int64_t block = tensor_type_info(type)->block_size;
    for (int trial = 0; trial < 12; ++trial) {
      const int64_t N = 1 + int64_t(rng() % (trial < 6 ? 9 : 41)), K = block * (1 + int64_t(rng() % 7));
      std::vector<uint8_t> gguf(size_t(N) * row_size(type, K));
      for (auto& b : gguf) b = uint8_t(rng());
      // Odd trials keep the random scales (nearly every piece has an
      // infinite or NaN one); even ones make every scale finite, and every
      // other of those plants one non-finite scale in a random block.
      const TensorTypeInfo& info = *tensor_type_info(type);
      const size_t blocks = gguf.size() / info.block_bytes, last = 2 * size_t(info.fp16_scales - 1);
      if (trial % 2 == 0) {
        for (size_t b = 0; b < blocks; ++b)
          for (size_t at : {size_t(0), last}) gguf[b * info.block_bytes + info.fp16_scales_offset + at + 1] &= 0xBF;
        if (trial % 4 == 0) {
          const size_t at = size_t(rng() % blocks) * info.block_bytes + info.fp16_scales_offset + (rng() % 2 ? last : 0);
          gguf[at + 1] |= 0x7C;
        }
      }
      PackedWeights fast, per_weight;
      ASSERT_TRUE(PackedWeights::Pack(type, gguf.data(), gguf.size(), N, K, &fast).ok());
      ASSERT_TRUE(PackedWeights::Pack(type, gguf.data(), gguf.size(), N, K, &per_weight,
                                      PackedWeights::Method::kPerWeight).ok());
      // In pieces of random whole groups, as ModelLoader packs a streamed
      // file: no piece writes into the part unpacked_part() gives for the
      // rows so far (marked here, then zeroed as a loader leaves it).
      PackedWeights pieces;
      ASSERT_TRUE(PackedWeights::StartPacking(type, N, K, &pieces).ok());
      for (int64_t first = 0, rows = 0; first < N; first += rows) {
        rows = std::min<int64_t>(N - first, kPackRows * (1 + int64_t(rng() % 3)));
        size_t rest = 0;
        uint8_t* unpacked = pieces.unpacked_part(first + rows, &rest);
        ASSERT_EQ(unpacked + rest, pieces.data() + pieces.bytes());
        std::memset(unpacked, 0x5A, rest);
        const uint8_t* piece = gguf.data() + size_t(first) * row_size(type, K);
        // PackRows() says whether the piece's scales are finite, as
        // first_non_finite_scale() finds them.
        const bool finite = first_non_finite_scale(info, piece, int64_t(size_t(rows) * row_size(type, K) / info.block_bytes)) < 0;
        ASSERT_EQ(pieces.PackRows(first, piece, rows), finite)
            << tensor_type_info(type)->name << " N=" << N << " K=" << K << ": rows " << first << ".." << first + rows;
        ASSERT_TRUE(std::all_of(unpacked, unpacked + rest, [](uint8_t b) { return b == 0x5A; }))
            << tensor_type_info(type)->name << " N=" << N << " K=" << K << ": rows " << first << ".." << first + rows
            << " were packed past byte " << pieces.bytes() - rest;
        std::memset(unpacked, 0, rest);
      }
      ASSERT_EQ(fast.bytes(), per_weight.bytes());
      ASSERT_EQ(pieces.bytes(), per_weight.bytes());
      for (size_t i = 0; i < fast.bytes(); ++i) {
        ASSERT_EQ(fast.data()[i], per_weight.data()[i])
            << tensor_type_info(type)->name << " N=" << N << " K=" << K << " packed byte " << i << " of " << fast.bytes();
        ASSERT_EQ(pieces.data()[i], per_weight.data()[i])
            << tensor_type_info(type)->name << " in pieces, N=" << N << " K=" << K << " packed byte " << i;
      }
    }
  }
}

// The K-quants stay close to their file size in memory (packed_weights.h).
TEST(KernelsPack, KQuantPanelsStayCloseToTheFile) {
  const int64_t N = 64, K = 4096;
  const std::pair<TensorType, double> limits[] = {{TensorType::Q4_K, 4.75}, {TensorType::Q5_K, 5.75}, {TensorType::Q6_K, 6.625}};
  for (const auto& [type, bits] : limits) {
    std::vector<uint8_t> gguf(size_t(N) * row_size(type, K));
    PackedWeights p;
    ASSERT_TRUE(PackedWeights::Pack(type, gguf.data(), gguf.size(), N, K, &p).ok());
    EXPECT_LE(double(p.bytes()) * 8 / double(N * K), bits) << tensor_type_info(type)->name;
  }
}

TEST(KernelsPack, EveryFp16ScaleSurvives) {
  // 65536 rows of one Q4_0 block, row i with scale bits i.
  const int64_t N = 65536, K = 32;
  std::vector<BlockQ4_0> w(N);
  for (int64_t i = 0; i < N; ++i) {
    w[i].d = uint16_t(i);
    std::memset(w[i].qs, int(i & 0xff), sizeof w[i].qs);
  }
  PackedWeights p;
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_0, w.data(), w.size() * sizeof(BlockQ4_0), N, K, &p).ok());
  std::vector<BlockQ4_0> back(N);
  p.unpack_to_gguf(back.data());
  for (int64_t i = 0; i < N; ++i) ASSERT_EQ(back[i].d, w[i].d) << "scale bits " << i;
  EXPECT_EQ(std::memcmp(back.data(), w.data(), w.size() * sizeof(BlockQ4_0)), 0);
  // The whole-group packing widens four scales in one vector: the per-weight
  // walk's f32 (fp16_to_fp32) for every code, bit for bit.
  PackedWeights per_weight;
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_0, w.data(), w.size() * sizeof(BlockQ4_0), N, K, &per_weight,
                                  PackedWeights::Method::kPerWeight).ok());
  ASSERT_EQ(p.bytes(), per_weight.bytes());
  EXPECT_EQ(std::memcmp(p.data(), per_weight.data(), p.bytes()), 0);
}

TEST(KernelsPack, RejectsBadShapesWithClearMessages) {
  std::vector<uint8_t> buf(1 << 16);
  PackedWeights p;
  Status s = PackedWeights::Pack(TensorType::Q4_0, buf.data(), 4 * row_size(TensorType::Q4_0, 96), 4, 100, &p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("K = 100 is not a multiple of 32"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("keep this matrix in f32"), std::string::npos) << s.message();

  s = PackedWeights::Pack(TensorType::Q4_1, buf.data(), 100, 4, 64, &p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("takes 160 bytes, but 100 were given"), std::string::npos) << s.message();

  // A type without kernels is held in its GGUF rows as they are.
  for (size_t i = 0; i < 256; ++i) buf[i] = uint8_t(i * 7);
  PackedWeights f16;
  s = PackedWeights::Pack(TensorType::F16, buf.data(), 256, 4, 32, &f16);
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<uint8_t> back(f16.gguf_bytes());
  f16.unpack_to_gguf(back.data());
  EXPECT_TRUE(back.size() == 256 && std::equal(back.begin(), back.end(), buf.begin()));

  s = PackedWeights::Pack(TensorType::F32, buf.data(), 0, 0, 32, &p);
  EXPECT_EQ(s.kind(), ErrorKind::kOutOfRange);
  s = PackedWeights::Pack(TensorType::F32, buf.data(), 0, 4, -1, &p);
  EXPECT_EQ(s.kind(), ErrorKind::kOutOfRange);
  s = PackedWeights::Pack(TensorType::Q4_0, nullptr, 18, 1, 32, &p);
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument);

  // Sizes whose byte count overflows (any address space).
  s = PackedWeights::Pack(TensorType::F32, buf.data(), 16, int64_t(1) << 40, int64_t(1) << 40, &p);
  EXPECT_EQ(s.kind(), ErrorKind::kResource) << s.message();
  EXPECT_TRUE(p.empty());  // untouched on error
}

TEST(KernelsPack, MovesTransferOwnership) {
  Rng rng(3);
  const auto w = random_q4_1(rng, 5, 64);
  PackedWeights a;
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_1, w.data(), w.size() * sizeof(BlockQ4_1), 5, 64, &a).ok());
  const uint8_t* data = a.data();
  PackedWeights b(std::move(a));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.gguf_bytes(), 0u);
  EXPECT_EQ(b.data(), data);
  PackedWeights c;
  c = std::move(b);
  EXPECT_EQ(c.data(), data);
  EXPECT_EQ(c.rows(), 5);
  std::vector<BlockQ4_1> back(w.size());
  c.unpack_to_gguf(back.data());
  EXPECT_EQ(std::memcmp(back.data(), w.data(), w.size() * sizeof(BlockQ4_1)), 0);
}

}  // namespace
}  // namespace nibble
