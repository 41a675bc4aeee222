#include "matmul_cases.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include <emscripten.h>

#include "kernels/packed_weights.h"
#include "quant/fp16.h"
#include "runtime/json_writer.h"

namespace nibble::bench {

const char* Variant::type_name() const { return tensor_type_info(type)->name; }
const char* Variant::precision_name() const {
  return precision == Precision::kW4A32 ? "w4a32" : precision == Precision::kW4A4 ? "w4a4" : "w4a8";
}

std::vector<Variant> default_variants() {
  return {{TensorType::Q4_0, Precision::kW4A8, /*cold=*/true},
          {TensorType::Q4_0, Precision::kW4A32, false},
          {TensorType::Q4_1, Precision::kW4A8, false},
          {TensorType::Q4_1, Precision::kW4A32, false},
          {TensorType::IQ4_NL, Precision::kW4A8, false},
          {TensorType::Q5_0, Precision::kW4A8, false},
          {TensorType::Q5_1, Precision::kW4A8, false},
          {TensorType::Q8_0, Precision::kW4A8, false},
          {TensorType::Q4_K, Precision::kW4A8, true},
          {TensorType::Q5_K, Precision::kW4A8, true},
          {TensorType::Q6_K, Precision::kW4A8, true}};
}

bool parse_variant(const std::string& text, Variant* out) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return false;
  const std::string type = text.substr(0, colon), precision = text.substr(colon + 1);
  const TensorTypeInfo* info = tensor_type_by_name(type.c_str());
  if (info == nullptr || !info->has_kernels() || (info->block_size != kQK && info->kernels != KernelFamily::kKPanels))
    return false;  // the block types random_blocks() makes
  out->type = info->type;
  if (precision == "w4a8") out->precision = Precision::kW4A8;
  else if (precision == "w4a32") out->precision = Precision::kW4A32;
  else if (precision == "w4a4") out->precision = Precision::kW4A4;
  else return false;
  out->cold = true;
  return true;
}

namespace {

// Random GGUF-layout blocks for W[N,K] of `type`: every byte after the
// scales uniform (codes, Q5 fifth bits, Q8_0 values), scales d ∈ [0.002,
// 0.022), Q4_1 / Q5_1 minimum m = −8·d (so the types centre the weights on
// zero); K-quants: random codes and sub-block scales, d of that range (Q6_K's
// at the block's end), dmin = d. Built directly, not through a quantizer, so
// the bench depends only on the block layout.
std::vector<uint8_t> random_blocks(TensorType type, const Shape& shape, uint32_t seed) {
  const TensorTypeInfo& info = *tensor_type_info(type);
  const size_t blocks = static_cast<size_t>(shape.N * (shape.K / info.block_size));
  const size_t block_bytes = info.block_bytes;
  std::vector<uint8_t> data(blocks * block_bytes);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> scale(0.002f, 0.022f);
  for (size_t b = 0; b < blocks; ++b) {
    uint8_t* block = data.data() + b * block_bytes;
    const float d = scale(rng);
    const uint16_t d16 = fp32_to_fp16(d);
    if (info.kernels == KernelFamily::kKPanels) {
      for (size_t i = 0; i < block_bytes; ++i) block[i] = static_cast<uint8_t>(rng() & 0xff);
      const size_t at = type == TensorType::Q6_K ? block_bytes - 2 : 0;
      std::memcpy(block + at, &d16, 2);
      if (type != TensorType::Q6_K) std::memcpy(block + 2, &d16, 2);
      continue;
    }
    std::memcpy(block, &d16, 2);
    const int scales = tensor_type_info(type)->fp16_scales;
    if (scales == 2) {
      const uint16_t m16 = fp32_to_fp16(-8.0f * d);
      std::memcpy(block + 2, &m16, 2);
    }
    for (size_t j = size_t(2 * scales); j < block_bytes; ++j) block[j] = static_cast<uint8_t>(rng() & 0xff);
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

// Packs `copies` identical matrices (a GEMV over one matrix that fits in the
// last-level cache would measure cache, not memory, bandwidth).
Status pack_random(TensorType type, const Shape& shape, uint32_t seed, size_t copies,
                   std::vector<PackedWeights>* out) {
  const std::vector<uint8_t> blocks = random_blocks(type, shape, seed);
  out->resize(copies);
  for (PackedWeights& w : *out) {
    NIBBLE_RETURN_IF_ERROR(PackedWeights::Pack(type, blocks.data(), blocks.size(), shape.N, shape.K, &w));
  }
  return Status::Ok();
}

// Median ms of y = matmul(weights[i % count], x), i = 0, 1, ...
Status time_matmul(const std::vector<PackedWeights>& weights, size_t count, const float* x, int64_t M, float* y,
                   Precision precision, const Budget& budget, double* median_ms, int* reps) {
  Status status;
  size_t next = 0;
  const std::vector<double> times = time_runs(
      [&] {
        const Status s = matmul(weights[next], x, M, y, precision);
        if (!s.ok()) status = s;
        next = (next + 1) % count;
      },
      budget);
  NIBBLE_RETURN_IF_ERROR(status);
  *median_ms = median(times);
  *reps = static_cast<int>(times.size());
  return Status::Ok();
}

double per_second(double amount, double ms) { return amount / (ms * 1e6); }  // amount·1e-9 per second

// This process's CPU time (user + system, all threads: the bench runs one),
// ms: a burst that another process preempts does not count the wait.
EM_JS(double, cpu_time_ms, (), {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
});

// One burst of the ratio rounds: a warm-up call (the weights back in
// cache), then the fastest of kBurstCalls timings of y = x · Wᵀ (M = 1,
// W4A8), each over enough calls to take kMinTimedMs (one call for the
// bench's shapes; a small shape's single call could read as 0 ms of CPU,
// whose clock ticks coarsely).
constexpr int kBurstCalls = 3;
constexpr double kMinTimedMs = 0.5;
Status time_burst(const PackedWeights& w, const float* x, float* y, bool cpu_clock, double* ms) {
  const double warm0 = now_ms();
  NIBBLE_RETURN_IF_ERROR(matmul(w, x, 1, y, Precision::kW4A8));
  const double warm_ms = now_ms() - warm0;
  const int calls = warm_ms >= kMinTimedMs ? 1 : int(std::min(1e4, std::ceil(kMinTimedMs / std::max(warm_ms, 1e-4))));
  double best = 0;
  for (int i = 0; i < kBurstCalls; ++i) {
    const double t0 = cpu_clock ? cpu_time_ms() : now_ms();
    for (int c = 0; c < calls; ++c) NIBBLE_RETURN_IF_ERROR(matmul(w, x, 1, y, Precision::kW4A8));
    const double t = ((cpu_clock ? cpu_time_ms() : now_ms()) - t0) / calls;
    best = i == 0 ? t : std::min(best, t);
  }
  *ms = best;
  return Status::Ok();
}

// The ratio rounds (bench_shape): weights[0] is Q4_0's, rows[i] the row of
// weights[i] (i ≥ 1).
Status ratio_rounds(const std::vector<const PackedWeights*>& weights, const std::vector<MatmulResult*>& rows, int rounds,
                    bool cpu_clock, const float* x, float* y) {
  std::vector<std::vector<double>> ratios(weights.size());
  std::vector<double> ms(weights.size());
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < weights.size(); ++i) NIBBLE_RETURN_IF_ERROR(time_burst(*weights[i], x, y, cpu_clock, &ms[i]));
    double q4_last = 0;
    NIBBLE_RETURN_IF_ERROR(time_burst(*weights[0], x, y, cpu_clock, &q4_last));
    const double base = 0.5 * (ms[0] + q4_last);
    for (size_t i = 1; i < weights.size(); ++i) ratios[i].push_back(ms[i] / base);
  }
  for (size_t i = 1; i < weights.size(); ++i) {
    std::vector<double>& v = ratios[i];
    std::sort(v.begin(), v.end());
    MatmulResult& row = *rows[i];
    row.ratio_rounds = rounds;
    row.ratio_median = quantile(v, 0.5);
    row.ratio_q1 = quantile(v, 0.25);
    row.ratio_q3 = quantile(v, 0.75);
    row.ratio_min = v.front();
    row.ratio_max = v.back();
  }
  return Status::Ok();
}

}  // namespace

Status bench_shape(const Shape& shape, const BenchSettings& settings, std::vector<MatmulResult>* rows) {
  int64_t max_m = 0;
  for (int64_t m : settings.m_values) max_m = std::max(max_m, m);
  const std::vector<float> x = random_activations(max_m * shape.K, 1234);  // X[max_m, K]
  std::vector<float> y(static_cast<size_t>(max_m * shape.N));              // Y[max_m, N]
  // The ratio rounds' weights (one copy per W4A8 type, Q4_0's first) and
  // rows, kept from the timings below.
  const bool ratios = settings.ratio_rounds > 0 &&
                      std::find(settings.m_values.begin(), settings.m_values.end(), 1) != settings.m_values.end();
  std::vector<PackedWeights> kept;
  std::vector<TensorType> kept_types;
  std::vector<size_t> kept_rows;
  kept.reserve(size_t(kTensorTypeCount));

  // One packed matrix per type, shared by both precisions; extra copies only
  // for the cold M = 1 measurement.
  for (const TensorTypeInfo& info : kTensorTypes) {
    const TensorType type = info.type;
    bool wanted = false, cold_wanted = false;
    for (const Variant& v : settings.variants) {
      wanted |= v.type == type;
      cold_wanted |= v.type == type && v.cold;
    }
    // A shape whose rows are not whole blocks of the type (K-quants: K a
    // multiple of 256) has no such matrix: the type is left out of it.
    if (!wanted || shape.K % info.block_size != 0) continue;
    const size_t one = row_size(type, shape.K) * static_cast<size_t>(shape.N);
    const size_t copies = cold_wanted && settings.cold_bytes > 0
                              ? std::max<size_t>(2, (settings.cold_bytes + one - 1) / one)
                              : 1;
    std::vector<PackedWeights> weights;
    NIBBLE_RETURN_IF_ERROR(pack_random(type, shape, static_cast<uint32_t>(shape.K * 31 + shape.N), copies, &weights));
    for (int64_t M : settings.m_values) {
      for (const Variant& v : settings.variants) {
        if (v.type != type) continue;
        MatmulResult r;
        r.variant = v;
        r.shape = shape;
        r.M = M;
        NIBBLE_RETURN_IF_ERROR(time_matmul(weights, 1, x.data(), M, y.data(), v.precision, settings.budget,
                                           &r.median_ms, &r.reps));
        r.weight_bytes = weights[0].bytes();
        r.gguf_bytes = weights[0].gguf_bytes();
        r.gmacs = per_second(static_cast<double>(M * shape.N * shape.K), r.median_ms);
        r.weight_gbps = per_second(static_cast<double>(r.weight_bytes), r.median_ms);
        if (M == 1 && v.cold && copies > 1) {
          int cold_reps = 0;
          NIBBLE_RETURN_IF_ERROR(time_matmul(weights, copies, x.data(), M, y.data(), v.precision, settings.budget,
                                             &r.cold_ms, &cold_reps));
          r.cold_copies = static_cast<int>(copies);
          r.cold_weight_gbps = per_second(static_cast<double>(r.weight_bytes), r.cold_ms);
        }
        if (ratios && M == 1 && v.precision == Precision::kW4A8 && (kept_types.empty() || kept_types.back() != type)) {
          kept_types.push_back(type);
          kept_rows.push_back(rows->size());
        }
        rows->push_back(r);
      }
    }
    if (!kept_types.empty() && kept_types.back() == type) kept.push_back(std::move(weights[0]));
  }
  const auto q4 = std::find(kept_types.begin(), kept_types.end(), TensorType::Q4_0);
  if (kept.size() < 2 || q4 == kept_types.end()) return Status::Ok();
  const size_t at = size_t(q4 - kept_types.begin());
  std::vector<const PackedWeights*> order = {&kept[at]};
  std::vector<MatmulResult*> order_rows = {&(*rows)[kept_rows[at]]};
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i == at) continue;
    order.push_back(&kept[i]);
    order_rows.push_back(&(*rows)[kept_rows[i]]);
  }
  return ratio_rounds(order, order_rows, settings.ratio_rounds, settings.ratio_cpu_clock, x.data(), y.data());
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
