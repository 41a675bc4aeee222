// Helpers for the model tests: fixture paths, reading files, pulling numbers
// out of the reference JSON files, loading a model in chunks, KL divergence.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "model/model_loader.h"

namespace nibble {

// The larger of a and b, NaN if either is (std::max would drop a NaN b, so
// a largest-difference check would pass on NaN results).
inline double sticky_max(double a, double b) { return a >= b || a != a ? a : b; }

inline std::string model_path(const std::string& name) { return std::string(NIBBLE_SOURCE_DIR) + "/models/" + name; }

// The whole file; a missing, unreadable or empty file fails the test (an
// empty reference would otherwise make the checks over it vacuous).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  if (!in || ss.str().empty()) ADD_FAILURE() << "cannot read " << path << (in ? ": the file is empty" : "");
  return ss.str();
}

// The JSON string starting at the first quote at or after `at`.
inline std::string json_string_at(const std::string& json, size_t at) {
  const size_t open = json.find('"', at);
  std::string out;
  for (size_t i = open + 1; i < json.size() && json[i] != '"'; ++i) {
    if (json[i] == '\\' && i + 1 < json.size()) {
      ++i;
      out += json[i] == 'n' ? '\n' : json[i];
    } else {
      out += json[i];
    }
  }
  return out;
}

// The numbers of the first array after `key` found at or after `at`.
inline std::vector<double> json_numbers_after(const std::string& json, const std::string& key, size_t at) {
  size_t p = json.find(key, at);
  std::vector<double> out;
  if (p == std::string::npos) return out;
  p = json.find('[', p) + 1;
  const size_t end = json.find(']', p);
  while (p < end) {
    char* next = nullptr;
    const double v = std::strtod(json.c_str() + p, &next);
    if (next == json.c_str() + p) break;
    out.push_back(v);
    p = size_t(next - json.c_str());
    while (p < end && (json[p] == ',' || std::isspace(static_cast<unsigned char>(json[p])))) ++p;
  }
  return out;
}

inline std::vector<int32_t> json_ints_after(const std::string& json, const std::string& key, size_t at) {
  std::vector<int32_t> out;
  for (double v : json_numbers_after(json, key, at)) out.push_back(int32_t(v));
  return out;
}

// Loads a model through ModelLoader, `chunk` bytes at a time.
inline std::unique_ptr<Model> load_model_file(const std::string& path, const std::string& tokenizer_path,
                                              TensorType weights, size_t chunk) {
  const std::string bytes = read_text(path);
  LoadOptions options;
  options.weights = weights;
  ModelLoader loader(options, bytes.size());
  const uint8_t* data = reinterpret_cast<const uint8_t*>(bytes.data());
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    Status s = loader.feed(data + at, std::min(chunk, bytes.size() - at));
    EXPECT_TRUE(s.ok()) << s.message();
    if (!s.ok()) return nullptr;
  }
  if (!tokenizer_path.empty()) {
    const std::string tok = read_text(tokenizer_path);
    EXPECT_TRUE(loader.set_tokenizer_file(reinterpret_cast<const uint8_t*>(tok.data()), tok.size()).ok());
  }
  std::unique_ptr<Model> model;
  Status s = loader.finish(&model);
  EXPECT_TRUE(s.ok()) << s.message();
  return model;
}

inline std::vector<double> softmax_of(const std::vector<double>& logits) {
  const double max = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) sum += p[i] = std::exp(logits[i] - max);
  for (double& v : p) v /= sum;
  return p;
}

// KL(softmax(p) ‖ softmax(q))
inline double kl_divergence_from_logits(const std::vector<double>& p_logits, const std::vector<double>& q_logits) {
  const std::vector<double> p = softmax_of(p_logits), q = softmax_of(q_logits);
  double kl = 0;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] > 0) kl += p[i] * std::log(p[i] / std::max(q[i], 1e-300));
  return kl;
}

inline size_t argmax_of(const std::vector<double>& v) { return size_t(std::max_element(v.begin(), v.end()) - v.begin()); }

}  // namespace nibble
