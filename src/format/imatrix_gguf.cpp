// The imatrix GGUF file: read and write (imatrix_gguf.h).
#include "format/imatrix_gguf.h"

#include <cmath>
#include <cstring>

#include "format/gguf.h"
#include "runtime/decimal_text.h"

namespace nibble {
namespace {

constexpr char kSums[] = ".in_sum2";
constexpr char kCounts[] = ".counts";
constexpr char kValueSums[] = ".in_sum";

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// The F32 values of tensor t (checked by GgufFile::Parse to lie in the file).
std::vector<float> floats_of(const uint8_t* data, const GgufTensorInfo& t) {
  std::vector<float> v(size_t(t.elements()));
  std::memcpy(v.data(), data + t.offset, v.size() * sizeof(float));
  return v;
}

}  // namespace

bool ImportanceMatrix::column_weights(const std::string& name, int64_t cols, std::vector<float>* out) const {
  const auto it = tensors.find(name);
  if (it == tensors.end() || int64_t(it->second.sums.size()) != cols) return false;
  const Entry& e = it->second;
  out->resize(size_t(cols));
  for (int64_t j = 0; j < cols; ++j) (*out)[size_t(j)] = e.count > 0 ? e.sums[size_t(j)] / e.count : 1.0f;
  return true;
}

Status read_imatrix_gguf(const uint8_t* data, size_t size, ImportanceMatrix* out) {
  if (size >= 4 && std::memcmp(data, "GGUF", 4) != 0)
    return FormatError("not an imatrix GGUF file (no 'GGUF' magic); llama-imatrix's older .dat format is not read, "
                       "convert it with llama-imatrix --in-file <file.dat> -o <file.gguf>");
  GgufFile file;
  NIBBLE_RETURN_IF_ERROR(GgufFile::Parse(data, size, size, &file));
  std::string type;
  if (!file.get_string("general.type", &type).ok() || type != "imatrix")
    return FormatError("this GGUF file is not an importance matrix (general.type is not \"imatrix\")");
  ImportanceMatrix m;
  const std::vector<std::string>* datasets = nullptr;
  if (file.get_strings("imatrix.datasets", &datasets).ok()) m.datasets = *datasets;
  int64_t value = 0;
  if (file.get_int("imatrix.chunk_count", &value).ok() && value >= 0) m.chunk_count = uint32_t(value);
  if (file.get_int("imatrix.chunk_size", &value).ok() && value >= 0) m.chunk_size = uint32_t(value);
  for (const GgufTensorInfo& t : file.tensors()) {
    if (!ends_with(t.name, kSums)) continue;
    const std::string name = t.name.substr(0, t.name.size() - std::strlen(kSums));
    const GgufTensorInfo* counts = file.find_tensor(name + kCounts);
    if (counts == nullptr) return FormatError("imatrix tensor " + t.name + " has no " + name + kCounts);
    if (t.type != TensorType::F32 || counts->type != TensorType::F32)
      return FormatError("imatrix tensors of " + name + " must be F32");
    if (t.shape.size() != 1 || counts->elements() != 1)
      return FormatError("imatrix data of " + name + " is per expert (" + integer_text(counts->elements()) +
                         " counts); nibble reads one set of sums per matrix");
    ImportanceMatrix::Entry e;
    e.sums = floats_of(data, t);
    e.count = floats_of(data, *counts)[0];
    if (const GgufTensorInfo* value_sums = file.find_tensor(name + kValueSums)) {
      if (value_sums->type != TensorType::F32 || value_sums->shape != t.shape)
        return FormatError("imatrix tensor " + value_sums->name + " must be F32 of the shape of " + t.name);
      e.value_sums = floats_of(data, *value_sums);
      for (float v : e.value_sums)
        if (!std::isfinite(v)) return FormatError("imatrix sums of " + name + " hold a non-finite value");
    }
    for (float v : e.sums)
      if (!std::isfinite(v) || v < 0) return FormatError("imatrix sums of " + name + " hold a negative or non-finite value");
    if (!std::isfinite(e.count) || e.count < 0) return FormatError("imatrix count of " + name + " is not a count");
    m.tensors.emplace(name, std::move(e));
  }
  if (m.tensors.empty()) return FormatError("the imatrix file holds no <name>.in_sum2 tensors");
  *out = std::move(m);
  return Status::Ok();
}

Status write_imatrix_gguf(const ImportanceMatrix& m, std::vector<uint8_t>* out) {
  GgufWriter writer;
  writer.set_string("general.type", "imatrix");
  writer.set_string_array("imatrix.datasets", m.datasets);
  writer.set_u32("imatrix.chunk_count", m.chunk_count);
  writer.set_u32("imatrix.chunk_size", m.chunk_size);
  for (const auto& [name, e] : m.tensors) {
    NIBBLE_RETURN_IF_ERROR(writer.add_tensor(name + kSums, TensorType::F32, {int64_t(e.sums.size())}, e.sums.data(),
                                             e.sums.size() * sizeof(float)));
    NIBBLE_RETURN_IF_ERROR(writer.add_tensor(name + kCounts, TensorType::F32, {1}, &e.count, sizeof(float)));
    if (!e.value_sums.empty())
      NIBBLE_RETURN_IF_ERROR(writer.add_tensor(name + kValueSums, TensorType::F32, {int64_t(e.value_sums.size())},
                                               e.value_sums.data(), e.value_sums.size() * sizeof(float)));
  }
  *out = writer.serialize();
  return Status::Ok();
}

}  // namespace nibble
