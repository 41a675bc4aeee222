// A small JSON writer (numbers, strings, bools, nested objects and arrays;
// commas inserted automatically) for `info` (api/) and the benchmarks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nibble {

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  JsonWriter& key(const std::string& name);
  JsonWriter& string(const std::string& value);
  JsonWriter& number(double value);  // 9 significant digits; null if not finite
  // An integer, formatted without printf (which the first wasm download
  // leaves out: api/ writes only integers).
  JsonWriter& integer(int64_t value);
  // A float's shortest faithful form (1e-05, not 9.99999975e-06).
  JsonWriter& number_f32(float value);
  JsonWriter& boolean(bool value);
  // Appends already-formatted JSON (e.g. a long number array).
  JsonWriter& raw(const std::string& json);
  const std::string& str() const { return out_; }

 private:
  JsonWriter& open(char c);
  JsonWriter& close(char c);
  // A comma before every element but the first of its container; none after a key.
  void separate();
  void append_quoted(const std::string& s);
  void append_number(double value, const char* format);

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace nibble
