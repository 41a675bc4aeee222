#include "runtime/json_writer.h"

#include <cmath>
#include <cstdio>

#include "runtime/decimal_text.h"

namespace nibble {

JsonWriter& JsonWriter::key(const std::string& name) {
  separate();
  append_quoted(name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(const std::string& value) {
  separate();
  append_quoted(value);
  return *this;
}

JsonWriter& JsonWriter::number(double value) {
  append_number(value, "%.9g");
  return *this;
}

JsonWriter& JsonWriter::integer(int64_t value) {
  separate();
  out_ += integer_text(value);
  return *this;
}

JsonWriter& JsonWriter::number_f32(float value) {
  append_number(double(value), "%.7g");
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  separate();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::raw(const std::string& json) {
  separate();
  out_ += json;
  return *this;
}

JsonWriter& JsonWriter::open(char c) {
  separate();
  out_ += c;
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::close(char c) {
  out_ += c;
  first_.pop_back();
  return *this;
}

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
}

void JsonWriter::append_quoted(const std::string& s) {
  out_ += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out_ += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out_ += "\\u00";
      out_ += "0123456789abcdef"[c >> 4];
      out_ += "0123456789abcdef"[c & 15];
      continue;
    }
    out_ += c;
  }
  out_ += '"';
}

void JsonWriter::append_number(double value, const char* format) {
  separate();
  if (!std::isfinite(value)) {
    out_ += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, format, value);
  out_ += buf;
}

}  // namespace nibble
