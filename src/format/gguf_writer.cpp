// GGUF v3 writer: the standard layout llama.cpp reads.
//
// File = header | metadata in insertion order | tensor infos | zero padding to
// the alignment | each tensor's data, each padded with zeros to the alignment
// (so every tensor offset, relative to the data section, is aligned). A file
// without tensors ends after the tensor infos (no padding).
#include <cstring>
#include <utility>

#include "format/gguf.h"
#include "format/tensor_layout.h"
#include "runtime/decimal_text.h"

namespace nibble {
namespace {

constexpr uint32_t kGgufVersion = 3;
constexpr size_t kMaxTensorNameBytes = 63;  // ggml keeps names in char[64]

// Appends little-endian scalars and GGUF strings to a byte vector.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>* out) : out_(out) {}
  void u8(uint8_t v) { out_->push_back(v); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void f32(float v) { uint32_t b; std::memcpy(&b, &v, 4); le(b, 4); }
  void f64(double v) { uint64_t b; std::memcpy(&b, &v, 8); le(b, 8); }
  void str(const std::string& s) {
    u64(s.size());
    out_->insert(out_->end(), s.begin(), s.end());
  }
  void pad_to(uint64_t alignment) {
    while (out_->size() % alignment != 0) out_->push_back(0);
  }

 private:
  void le(uint64_t v, int n) {
    for (int k = 0; k < n; ++k) out_->push_back(uint8_t(v >> (8 * k)));
  }
  std::vector<uint8_t>* out_;
};

// One scalar of `type` taken from the matching field (i, f or s).
void WriteScalar(ByteWriter& w, GgufType type, int64_t i, double f, const std::string& s) {
  switch (type) {
    case GgufType::UINT8: case GgufType::INT8: w.u8(uint8_t(i)); break;
    case GgufType::BOOL: w.u8(i != 0 ? 1 : 0); break;
    case GgufType::UINT16: case GgufType::INT16: w.u16(uint16_t(i)); break;
    case GgufType::UINT32: case GgufType::INT32: w.u32(uint32_t(i)); break;
    case GgufType::UINT64: case GgufType::INT64: w.u64(uint64_t(i)); break;
    case GgufType::FLOAT32: w.f32(float(f)); break;
    case GgufType::FLOAT64: w.f64(f); break;
    case GgufType::STRING: w.str(s); break;
    case GgufType::ARRAY: break;  // nested arrays are not part of GGUF
  }
}

void WriteValue(ByteWriter& w, const GgufValue& v) {
  w.u32(uint32_t(v.type));
  if (v.type != GgufType::ARRAY) {
    WriteScalar(w, v.type, v.i, v.f, v.s);
    return;
  }
  w.u32(uint32_t(v.array_type));
  static const std::string kEmpty;
  switch (v.array_type) {
    case GgufType::STRING:
      w.u64(v.strings.size());
      for (const std::string& s : v.strings) w.str(s);
      break;
    case GgufType::FLOAT32: case GgufType::FLOAT64:
      w.u64(v.floats.size());
      for (double f : v.floats) WriteScalar(w, v.array_type, 0, f, kEmpty);
      break;
    case GgufType::ARRAY:
      w.u64(0);
      break;
    default:
      w.u64(v.ints.size());
      for (int64_t i : v.ints) WriteScalar(w, v.array_type, i, 0, kEmpty);
      break;
  }
}

GgufValue Scalar(GgufType type) {
  GgufValue v;
  v.type = type;
  return v;
}

GgufValue Array(GgufType element_type) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = element_type;
  return v;
}

}  // namespace

void GgufWriter::set_value(const std::string& key, const GgufValue& v) {
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = v;
      return;
    }
  }
  kv_.emplace_back(key, v);
}

void GgufWriter::set_u32(const std::string& key, uint32_t v) {
  GgufValue value = Scalar(GgufType::UINT32);
  value.i = v;
  set_value(key, value);
}

void GgufWriter::set_i32(const std::string& key, int32_t v) {
  GgufValue value = Scalar(GgufType::INT32);
  value.i = v;
  set_value(key, value);
}

void GgufWriter::set_f32(const std::string& key, float v) {
  GgufValue value = Scalar(GgufType::FLOAT32);
  value.f = v;
  set_value(key, value);
}

void GgufWriter::set_bool(const std::string& key, bool v) {
  GgufValue value = Scalar(GgufType::BOOL);
  value.i = v ? 1 : 0;
  set_value(key, value);
}

void GgufWriter::set_string(const std::string& key, const std::string& v) {
  GgufValue value = Scalar(GgufType::STRING);
  value.s = v;
  set_value(key, value);
}

void GgufWriter::set_string_array(const std::string& key, const std::vector<std::string>& v) {
  GgufValue value = Array(GgufType::STRING);
  value.strings = v;
  set_value(key, value);
}

void GgufWriter::set_f32_array(const std::string& key, const std::vector<float>& v) {
  GgufValue value = Array(GgufType::FLOAT32);
  value.floats.assign(v.begin(), v.end());
  set_value(key, value);
}

void GgufWriter::set_i32_array(const std::string& key, const std::vector<int32_t>& v) {
  GgufValue value = Array(GgufType::INT32);
  value.ints.assign(v.begin(), v.end());
  set_value(key, value);
}

Status GgufWriter::add_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& shape,
                              const void* data, size_t bytes) {
  if (name.empty() || name.size() > kMaxTensorNameBytes) {
    return InvalidArgument("GGUF tensor name '" + name + "' must have 1 to " +
                           integer_text(kMaxTensorNameBytes) + " bytes");
  }
  for (const Tensor& t : tensors_) {
    if (t.name == name) return InvalidArgument("GGUF tensor " + name + " was already added");
  }
  TensorLayout layout;
  if (!tensor_layout(uint32_t(type), &layout)) {
    return InvalidArgument("GGUF tensor " + name + ": unsupported type id " + integer_text(uint32_t(type)));
  }
  if (shape.empty() || shape.size() > 4) {
    return InvalidArgument("GGUF tensor " + name + " has " + integer_text(shape.size()) +
                           " dimensions (1 to 4 allowed)");
  }
  uint64_t expected = 0;
  if (!tensor_bytes(layout, shape.data(), int(shape.size()), &expected)) {
    return InvalidArgument("GGUF tensor " + name + ": shape must be positive with a row length (" +
                           integer_text(shape[0]) + ") that is a multiple of the block size " +
                           integer_text(layout.block_size));
  }
  if (expected != bytes) {
    return InvalidArgument("GGUF tensor " + name + ": expected " + integer_text(expected) +
                           " bytes of data for its shape and type, got " + integer_text(bytes));
  }
  if (data == nullptr && bytes != 0) return InvalidArgument("GGUF tensor " + name + ": data is null");
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = shape;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  t.data.assign(p, p + bytes);
  tensors_.push_back(std::move(t));
  return Status::Ok();
}

std::vector<uint8_t> GgufWriter::serialize() const {
  uint64_t alignment = kGgufDefaultAlignment;
  for (const auto& kv : kv_) {
    const GgufValue& v = kv.second;
    if (kv.first == "general.alignment" && v.type == GgufType::UINT32 && v.i > 0 && (v.i & (v.i - 1)) == 0) {
      alignment = uint64_t(v.i);
    }
  }
  std::vector<uint8_t> out;
  ByteWriter w(&out);
  w.u8('G'); w.u8('G'); w.u8('U'); w.u8('F');
  w.u32(kGgufVersion);
  w.u64(tensors_.size());
  w.u64(kv_.size());
  for (const auto& kv : kv_) {
    w.str(kv.first);
    WriteValue(w, kv.second);
  }
  // Tensor infos with offsets relative to the (aligned) data section.
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    w.str(t.name);
    w.u32(uint32_t(t.shape.size()));
    for (int64_t d : t.shape) w.u64(uint64_t(d));
    w.u32(uint32_t(t.type));
    w.u64(offset);
    offset += (t.data.size() + alignment - 1) / alignment * alignment;
  }
  // Vocabulary-only files (no tensors) end right after the metadata, as
  // llama.cpp writes them.
  if (tensors_.empty()) return out;
  w.pad_to(alignment);
  out.reserve(out.size() + offset);
  for (const Tensor& t : tensors_) {
    out.insert(out.end(), t.data.begin(), t.data.end());
    w.pad_to(alignment);
  }
  return out;
}

}  // namespace nibble
