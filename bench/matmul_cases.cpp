#include "matmul_cases.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "json_writer.h"
#include "kernels/packed_weights.h"
#include "quant/fp16.h"


namespace nibble::bench {

const char* Variant::type_name() const { return type == TensorType::Q4_1 ? "q4_1" : "q4_0"; }
const char* Variant::precision_name() const { return precision == Precision::kW4A32 ? "w4a32" : "w4a8"; }

std::vector<Variant> default_variants() {
  return {{TensorType::Q4_0, Precision::kW4A8},
          {TensorType::Q4_0, Precision::kW4A32},
          {TensorType::Q4_1, Precision::kW4A8},
          {TensorType::Q4_1, Precision::kW4A32}};
}

bool parse_variant(const std::string& text, Variant* out) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return false;
  const std::string type = text.substr(0, colon), precision = text.substr(colon + 1);
  if (type == "q4_0") out->type = TensorType::Q4_0;
  else if (type == "q4_1") out->type = TensorType::Q4_1;
  else return false;
  if (precision == "w4a8") out->precision = Precision::kW4A8;
  else if (precision == "w4a32") out->precision = Precision::kW4A32;
  else return false;
  return true;
}

namespace {

// Random GGUF-layout blocks for W[N,K] of `type`: codes uniform in 0..15,
// scales d ∈ [0.002, 0.022), Q4_1 minimum m = −8·d (so both types centre
// the weights on zero). Built directly, not through a quantizer, so the
// bench depends only on the block layout.
std::vector<uint8_t> random_blocks(TensorType type, const Shape& shape, uint32_t seed) {
  const size_t blocks = static_cast<size_t>(shape.N * (shape.K / kQK));
  const size_t block_bytes = type == TensorType::Q4_1 ? sizeof(BlockQ4_1) : sizeof(BlockQ4_0);
  std::vector<uint8_t> data(blocks * block_bytes);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> scale(0.002f, 0.022f);
  for (size_t b = 0; b < blocks; ++b) {
    uint8_t* block = data.data() + b * block_bytes;
    const float d = scale(rng);
    const uint16_t d16 = fp32_to_fp16(d);
    std::memcpy(block, &d16, 2);
    uint8_t* qs = block + 2;
    if (type == TensorType::Q4_1) {
      const uint16_t m16 = fp32_to_fp16(-8.0f * d);
      std::memcpy(block + 2, &m16, 2);
      qs = block + 4;
    }
    for (int j = 0; j < kQK / 2; ++j) qs[j] = static_cast<uint8_t>(rng() & 0xff);
  }
  return data;
}

std::vector<float> random_activations(int64_t count, uint32_t seed) {
  std::vector<float> x(static_cast<size_t>(count));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& v : x) v = dist(rng);
  return x;
}

std::string base64(const std::vector<uint8_t>& bytes) {
  static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t b0 = bytes[i];
    const uint32_t b1 = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    const uint32_t b2 = i + 2 < bytes.size() ? bytes[i + 2] : 0;
    const uint32_t triple = (b0 << 16) | (b1 << 8) | b2;
    out += table[(triple >> 18) & 63];
    out += table[(triple >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(triple >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? table[triple & 63] : '=';
  }
  return out;
}

std::string float_array(const std::vector<float>& values) {
  JsonWriter json;
  json.begin_array();
  for (float v : values) json.number(v);
  json.end_array();
  return json.str();
}

}  // namespace

namespace {

Status pack_random(TensorType type, const Shape& shape, uint32_t seed, PackedWeights* out) {
  const std::vector<uint8_t> blocks = random_blocks(type, shape, seed);
  return PackedWeights::Pack(type, blocks.data(), blocks.size(), shape.N, shape.K, out);
}

}  // namespace

Status bench_shape(const Shape& shape, const std::vector<int64_t>& m_values, const std::vector<Variant>& variants,
                   const Budget& budget, std::vector<MatmulResult>* rows) {
  int64_t max_m = 0;
  for (int64_t m : m_values) max_m = std::max(max_m, m);
  const std::vector<float> x = random_activations(max_m * shape.K, 1234);
  std::vector<float> y(static_cast<size_t>(max_m * shape.N));

  // One packed matrix per type, shared by both precisions.
  for (TensorType type : {TensorType::Q4_0, TensorType::Q4_1}) {
    bool wanted = false;
    for (const Variant& v : variants) wanted |= v.type == type;
    if (!wanted) continue;
    PackedWeights w;
    NIBBLE_RETURN_IF_ERROR(pack_random(type, shape, static_cast<uint32_t>(shape.K * 31 + shape.N), &w));
    for (int64_t M : m_values) {
      for (const Variant& v : variants) {
        if (v.type != type) continue;
        Status status;
        const std::vector<double> times =
            time_runs([&] { status = matmul(w, x.data(), M, y.data(), v.precision); }, budget);
        NIBBLE_RETURN_IF_ERROR(status);
        MatmulResult r;
        r.variant = v;
        r.shape = shape;
        r.M = M;
        r.median_ms = median(times);
        r.reps = static_cast<int>(times.size());
        r.weight_bytes = w.bytes();
        r.gguf_bytes = w.gguf_bytes();
        r.gmacs = static_cast<double>(M * shape.N * shape.K) / (r.median_ms * 1e6);
        r.weight_gbps = static_cast<double>(r.weight_bytes) / (r.median_ms * 1e6);
        rows->push_back(r);
      }
    }
  }
  return Status::Ok();
}

Status check_case(const Shape& shape, int64_t M, std::string* json) {
  if (shape.K % kQK != 0) return InvalidArgument("--check: K must be a multiple of 32");
  const std::vector<uint8_t> blocks = random_blocks(TensorType::Q4_0, shape, 99);
  PackedWeights w;
  NIBBLE_RETURN_IF_ERROR(PackedWeights::Pack(TensorType::Q4_0, blocks.data(), blocks.size(), shape.N, shape.K, &w));
  const std::vector<float> x = random_activations(M * shape.K, 100);
  std::vector<float> y_w4a32(static_cast<size_t>(M * shape.N)), y_w4a8(y_w4a32.size());
  NIBBLE_RETURN_IF_ERROR(matmul(w, x.data(), M, y_w4a32.data(), Precision::kW4A32));
  NIBBLE_RETURN_IF_ERROR(matmul(w, x.data(), M, y_w4a8.data(), Precision::kW4A8));
  JsonWriter out;
  out.begin_object();
  out.key("K").number(static_cast<double>(shape.K));
  out.key("N").number(static_cast<double>(shape.N));
  out.key("M").number(static_cast<double>(M));
  out.key("q4_0_base64").string(base64(blocks));
  out.key("x").raw(float_array(x));
  out.key("y_w4a32").raw(float_array(y_w4a32));
  out.key("y_w4a8").raw(float_array(y_w4a8));
  out.end_object();
  *json = out.str();
  return Status::Ok();
}

}  // namespace nibble::bench
