// GGUF reader: header, metadata and tensor table, every field checked.
#include "format/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "format/byte_reader.h"
#include "format/tensor_layout.h"
#include "runtime/decimal_text.h"

namespace nibble {
namespace {

constexpr uint32_t kMaxDims = 4;          // GGML_MAX_DIMS

// Smallest encoding of one value of a type: bounds an array's element count
// by the bytes left in the file. A string is at least its u64 length.
uint64_t MinEncodedBytes(GgufType type) {
  switch (type) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    case GgufType::STRING: return 8;
    case GgufType::ARRAY: return 12;  // element type + count
  }
  return 1;
}

bool IsKnownType(uint32_t t) { return t <= uint32_t(GgufType::FLOAT64); }
bool IsIntegerType(GgufType t) {
  switch (t) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::UINT16: case GgufType::INT16:
    case GgufType::UINT32: case GgufType::INT32: case GgufType::UINT64: case GgufType::INT64:
    case GgufType::BOOL:
      return true;
    default:
      return false;
  }
}
bool IsFloatType(GgufType t) { return t == GgufType::FLOAT32 || t == GgufType::FLOAT64; }

// Memory the parse takes for what it reads (counted against
// kGgufMaxMetadataMemory): a value with its key in the map and in file order
// and the map node; an array's elements (8 bytes per number, a std::string
// per text; the texts' characters are counted as read); a tensor's entry
// with its name in the index and the map node.
uint64_t KeyMemory(uint64_t key_bytes) { return sizeof(GgufValue) + 2 * key_bytes + 64; }
uint64_t ArrayMemory(GgufType type, uint64_t count) {
  return count * (type == GgufType::STRING ? sizeof(std::string) : 8);  // count <= 64 Mi: no overflow
}
uint64_t TensorMemory(uint64_t name_bytes) { return sizeof(GgufTensorInfo) + 2 * name_bytes + 64; }

// The little-endian integer or bool of `type` at p, widened as ReadScalar
// widens it.
int64_t LoadInteger(GgufType type, const uint8_t* p) {
  uint64_t bits = 0;
  std::memcpy(&bits, p, size_t(MinEncodedBytes(type)));  // little-endian host (wasm, x86)
  switch (type) {
    case GgufType::INT8: return int8_t(bits);
    case GgufType::INT16: return int16_t(bits);
    case GgufType::INT32: return int32_t(bits);
    case GgufType::BOOL: return bits != 0;
    default: return int64_t(bits);  // unsigned, INT64 and UINT64 (bit-cast)
  }
}

// Reads one scalar of `type` into the matching field of *v. Integers and bools
// go to v->i (UINT64 bit-cast), floats to v->f, strings to v->s.
bool ReadScalar(ByteReader& r, GgufType type, int64_t* i, double* f, std::string* s) {
  switch (type) {
    case GgufType::UINT8: { uint8_t x = 0; if (!r.read_u8(&x)) return false; *i = x; return true; }
    case GgufType::INT8: { int8_t x = 0; if (!r.read_i8(&x)) return false; *i = x; return true; }
    case GgufType::UINT16: { uint16_t x = 0; if (!r.read_u16(&x)) return false; *i = x; return true; }
    case GgufType::INT16: { int16_t x = 0; if (!r.read_i16(&x)) return false; *i = x; return true; }
    case GgufType::UINT32: { uint32_t x = 0; if (!r.read_u32(&x)) return false; *i = x; return true; }
    case GgufType::INT32: { int32_t x = 0; if (!r.read_i32(&x)) return false; *i = x; return true; }
    case GgufType::UINT64: { uint64_t x = 0; if (!r.read_u64(&x)) return false; *i = int64_t(x); return true; }
    case GgufType::INT64: return r.read_i64(i);
    case GgufType::BOOL: { uint8_t x = 0; if (!r.read_u8(&x)) return false; *i = x != 0; return true; }
    case GgufType::FLOAT32: { float x = 0; if (!r.read_f32(&x)) return false; *f = x; return true; }
    case GgufType::FLOAT64: return r.read_f64(f);
    case GgufType::STRING: return r.read_string(s);
    case GgufType::ARRAY: return false;  // handled by the caller
  }
  return false;
}

// Parsing state: the reader plus the outcome flags a failure reports.
class Parser {
 public:
  // Reads the header from the first kGgufMaxHeaderBytes of the file only, so
  // a count or length that would run past them is refused before allocating.
  Parser(const uint8_t* data, size_t size, uint64_t file_size, bool* need_more, bool texts)
      : r_(data, size_t(std::min<uint64_t>(size, kGgufMaxHeaderBytes)), std::min(file_size, kGgufMaxHeaderBytes)),
        header_limited_(file_size > kGgufMaxHeaderBytes), texts_(texts), need_more_(need_more) {}

  ByteReader& reader() { return r_; }

  // Turns the reader's failure into a message about `what` was being read.
  Status ReadError(const std::string& what) {
    const std::string at = " at byte " + integer_text(r_.failure_offset());
    if (header_limited_ && (r_.failure() == ByteReader::Failure::kTooLarge || !r_.is_prefix())) {
      const std::string limit = " the first " + Mib(kGgufMaxHeaderBytes) + " of the file (nibble reads headers, " +
                                "the metadata and tensor table, up to " + Mib(kGgufMaxHeaderBytes) + ")";
      if (r_.failure() == ByteReader::Failure::kTruncated) return FormatError("GGUF " + what + at + " lies past" + limit);
      return FormatError("GGUF " + what + at + " is " + integer_text(r_.failure_value()) +
                         ", more than the rest of" + limit + " can hold");
    }
    if (r_.failure() == ByteReader::Failure::kTooLarge) {
      return FormatError("GGUF " + what + at + " is " + integer_text(r_.failure_value()) +
                         ", more than the rest of the file (" + integer_text(r_.file_size() - r_.pos()) +
                         " bytes) can hold: the file is truncated or corrupt");
    }
    if (r_.is_prefix()) {
      if (need_more_) *need_more_ = true;
      return FormatError("GGUF header incomplete: reading " + what + at + " needs more than the " +
                         integer_text(r_.size()) + " bytes loaded so far");
    }
    return FormatError("GGUF file is truncated: " + what + at + " runs past the end of the file (" +
                       integer_text(r_.file_size()) + " bytes)");
  }

  Status ReadValue(const std::string& key, GgufValue* v) {
    uint32_t type = 0;
    if (!r_.read_u32(&type)) return ReadError("the value type of metadata key '" + key + "'");
    if (!IsKnownType(type)) {
      return FormatError("GGUF metadata key '" + key + "' has unknown value type " + integer_text(type));
    }
    v->type = GgufType(type);
    if (v->type != GgufType::ARRAY) {
      if (!ReadScalar(r_, v->type, &v->i, &v->f, &v->s)) {
        return ReadError("the value of metadata key '" + key + "'");
      }
      return Status::Ok();
    }
    uint32_t element_type = 0;
    uint64_t count = 0;
    const uint64_t count_offset = r_.pos() + 4;
    if (!r_.read_u32(&element_type) || !r_.read_u64(&count)) {
      return ReadError("the array header of metadata key '" + key + "'");
    }
    if (!IsKnownType(element_type)) {
      return FormatError("GGUF metadata key '" + key + "' is an array of unknown type " + integer_text(element_type));
    }
    v->array_type = GgufType(element_type);
    if (v->array_type == GgufType::ARRAY) {
      return FormatError("GGUF metadata key '" + key +
                         "' is an array of arrays, which GGUF readers do not support");
    }
    const uint64_t min_bytes = MinEncodedBytes(v->array_type);
    if (!r_.check_count(count, min_bytes, count_offset)) {
      return ReadError("array length of metadata key '" + key + "'");
    }
    // Each loop reads the elements that lie whole in the bytes at hand, with
    // no call per element (this code is built for size, -Oz, where a
    // vocabulary's 300k texts through read_string() and emplace_back() took
    // ~0.1 s in wasm); the element that does not fit, if any, is read again
    // by the reader, which says why it fails.
    NIBBLE_RETURN_IF_ERROR(Spend("metadata key '" + key + "'", ArrayMemory(v->array_type, count)));
    const uint8_t* p = r_.here();
    const uint8_t* const end = p + r_.remaining();
    uint64_t n = std::min(count, r_.max_items_in_buffer(min_bytes));
    if (v->array_type == GgufType::STRING) {
      if (texts_) v->strings.resize(size_t(n));  // (at most the bytes at hand / 8)
      std::string* out = v->strings.data();
      uint64_t text_bytes = 0;
      for (uint64_t k = 0; k < n; ++k) {
        uint64_t length = 0;
        if (end - p < 8 || (std::memcpy(&length, p, 8), length > uint64_t(end - p) - 8)) {
          n = k;
          if (texts_) v->strings.resize(size_t(n));
          break;
        }
        if (texts_) out[k].assign(reinterpret_cast<const char*>(p + 8), size_t(length));
        p += 8 + length;
        text_bytes += length;
      }
      NIBBLE_RETURN_IF_ERROR(Spend("metadata key '" + key + "'", text_bytes));
    } else if (IsFloatType(v->array_type)) {
      v->floats.resize(size_t(n));
      double* out = v->floats.data();
      for (uint64_t k = 0; k < n; ++k, p += min_bytes) {
        float x;
        std::memcpy(&x, p, 4);
        if (v->array_type == GgufType::FLOAT32) out[k] = x;
        else std::memcpy(&out[k], p, 8);
      }
    } else {
      v->ints.resize(size_t(n));
      int64_t* out = v->ints.data();
      for (uint64_t k = 0; k < n; ++k, p += min_bytes) out[k] = LoadInteger(v->array_type, p);
    }
    r_.skip(uint64_t(p - r_.here()));
    if (n < count) {  // element n does not fit in the bytes at hand: the reader says why
      std::string s;
      int64_t i = 0;
      double f = 0;
      ReadScalar(r_, v->array_type, &i, &f, &s);
      return ReadError("element " + integer_text(n) + " of array '" + key + "'");
    }
    return Status::Ok();
  }

  // Counts the memory that `what` (a value or a tensor's entry) takes once
  // read, refusing a header that would take more than kGgufMaxMetadataMemory.
  Status Spend(const std::string& what, uint64_t bytes) {
    spent_ += bytes;
    if (spent_ <= kGgufMaxMetadataMemory) return Status::Ok();
    return FormatError("GGUF " + what + " brings the memory the header takes once read past " +
                       Mib(kGgufMaxMetadataMemory) + " (nibble's limit; real files need a few MB)");
  }

 private:
  static std::string Mib(uint64_t bytes) { return integer_text(bytes >> 20) + " MiB"; }

  ByteReader r_;
  bool header_limited_;  // the file is longer than the header may be
  bool texts_;           // string arrays' elements are kept (else stepped over)
  bool* need_more_;
  uint64_t spent_ = 0;
};

std::string DescribeMagic(const uint8_t* m) {
  std::string out = "'";
  for (int k = 0; k < 4; ++k) {
    if (m[k] >= 0x20 && m[k] < 0x7f && m[k] != '\'' && m[k] != '\\') {
      out += char(m[k]);
    } else {  // \xhh, without printf (not in the first wasm download)
      out += "\\x";
      out += "0123456789abcdef"[m[k] >> 4];
      out += "0123456789abcdef"[m[k] & 15];
    }
  }
  return out + "'";
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

const char* gguf_type_name(GgufType type) {
  static const char* const kNames[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                                       "bool", "string", "array", "uint64", "int64", "float64"};
  const uint32_t t = uint32_t(type);
  return t < sizeof(kNames) / sizeof(kNames[0]) ? kNames[t] : "unknown";
}

int64_t GgufTensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // the parser checked this cannot overflow
  return n;
}

Status GgufFile::Parse(const uint8_t* data, size_t size, uint64_t file_size, GgufFile* out, bool* need_more) {
  if (need_more != nullptr) {
    GgufFile probe;  // text-less: *out is written once, by the pass that keeps the texts
    NIBBLE_RETURN_IF_ERROR(ParseWith(data, size, file_size, &probe, need_more, false));
  }
  return ParseWith(data, size, file_size, out, need_more, true);
}

Status GgufFile::ParseWith(const uint8_t* data, size_t size, uint64_t file_size, GgufFile* out, bool* need_more,
                           bool texts) {
  if (need_more) *need_more = false;
  if (data == nullptr && size != 0) return InvalidArgument("GgufFile::Parse: data is null");
  if (size > file_size) {
    return InvalidArgument("GgufFile::Parse: " + integer_text(size) + " bytes given for a file of " +
                           integer_text(file_size) + " bytes");
  }
  Parser parser(data, size, file_size, need_more, texts);
  ByteReader& r = parser.reader();
  GgufFile file;

  // Header: magic, version, counts.
  if (file_size < 4) {
    return FormatError("not a GGUF file (it has only " + integer_text(file_size) + " bytes)");
  }
  if (size < 4) return parser.ReadError("the magic");
  if (data[0] != 'G' || data[1] != 'G' || data[2] != 'U' || data[3] != 'F') {
    return FormatError("not a GGUF file (expected magic 'GGUF', found " + DescribeMagic(data) + ")");
  }
  r.skip(4);
  if (!r.read_u32(&file.version_)) return parser.ReadError("the version");
  if (file.version_ != 2 && file.version_ != 3) {
    if ((file.version_ & 0xffff) == 0 && (file.version_ >> 16) != 0) {
      return FormatError("GGUF file is big-endian (version field " + integer_text(file.version_) +
                         "); nibble reads little-endian GGUF only");
    }
    return FormatError("GGUF version " + integer_text(file.version_) + " is not supported (nibble reads 2 and 3)");
  }
  uint64_t n_tensors = 0, n_kv = 0;
  if (!r.read_u64(&n_tensors)) return parser.ReadError("the tensor count");
  if (!r.read_u64(&n_kv)) return parser.ReadError("the metadata count");
  // A key/value takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor
  // info at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset).
  if (!r.check_count(n_kv, 13, 16)) return parser.ReadError("metadata count");
  if (!r.check_count(n_tensors, 24, 8)) return parser.ReadError("tensor count");

  // Metadata, in file order.
  for (uint64_t n = 0; n < n_kv; ++n) {
    std::string key;
    if (!r.read_string(&key)) return parser.ReadError("the key of metadata entry " + integer_text(n));
    GgufValue value;
    NIBBLE_RETURN_IF_ERROR(parser.Spend("metadata key '" + key + "'", KeyMemory(key.size())));
    NIBBLE_RETURN_IF_ERROR(parser.ReadValue(key, &value));
    if (!file.metadata_.emplace(key, std::move(value)).second) {
      return FormatError("GGUF metadata key '" + key + "' appears twice");
    }
    file.metadata_keys_.push_back(std::move(key));
  }
  file.alignment_ = kGgufDefaultAlignment;
  if (const GgufValue* a = file.find("general.alignment")) {
    if (a->type != GgufType::UINT32 && a->type != GgufType::UINT64 && a->type != GgufType::INT32) {
      return FormatError(std::string("GGUF general.alignment must be an integer, found ") +
                         gguf_type_name(a->type));
    }
    const uint64_t v = uint64_t(a->i);
    if (a->i <= 0 || !IsPowerOfTwo(v) || v > (uint64_t(1) << 30)) {
      return FormatError("GGUF general.alignment must be a power of two up to 2^30, found " +
                         integer_text(a->i));
    }
    file.alignment_ = uint32_t(v);
  }

  // Tensor table: names, shapes and types; offsets checked once the data
  // section's start is known.
  std::vector<uint64_t> relative_offsets;
  file.tensors_.reserve(size_t(std::min(n_tensors, r.max_items_in_buffer(24))));
  for (uint64_t n = 0; n < n_tensors; ++n) {
    GgufTensorInfo info;
    if (!r.read_string(&info.name)) return parser.ReadError("the name of tensor " + integer_text(n));
    const std::string what = "tensor " + info.name;
    uint32_t n_dims = 0;
    if (!r.read_u32(&n_dims)) return parser.ReadError("the dimension count of " + what);
    if (n_dims == 0 || n_dims > kMaxDims) {
      return FormatError("GGUF " + what + " has " + integer_text(n_dims) + " dimensions (1 to " +
                         integer_text(kMaxDims) + " allowed)");
    }
    info.shape.resize(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim = 0;
      if (!r.read_u64(&dim)) return parser.ReadError("the shape of " + what);
      if (dim == 0 || dim > uint64_t(std::numeric_limits<int64_t>::max())) {
        return FormatError("GGUF " + what + " has dimension " + integer_text(d) + " = " + integer_text(dim) +
                           " (must be positive)");
      }
      info.shape[d] = int64_t(dim);
    }
    uint32_t type = 0;
    if (!r.read_u32(&type)) return parser.ReadError("the type of " + what);
    uint64_t offset = 0;
    if (!r.read_u64(&offset)) return parser.ReadError("the data offset of " + what);

    TensorLayout layout;
    if (!tensor_layout(type, &layout)) {
      const char* name = ggml_type_name(type);
      return FormatError("GGUF " + what + " has type " + (name ? std::string(name) : "id " + integer_text(type)) +
                         " which nibble does not support (supported: " +
                         tensor_type_names(nullptr, false) + ")");
    }
    info.type = TensorType(type);
    if (info.shape[0] % layout.block_size != 0) {
      return FormatError("GGUF " + what + " has rows of " + integer_text(info.shape[0]) + " elements, not a multiple of " +
                         ggml_type_name(type) + "'s block size " + integer_text(layout.block_size));
    }
    if (!tensor_bytes(layout, info.shape.data(), int(n_dims), &info.bytes)) {
      std::string dims;
      for (int64_t dim : info.shape) dims += (dims.empty() ? "" : " x ") + integer_text(dim);
      return FormatError("GGUF " + what + " has shape " + dims + " whose size overflows");
    }
    if (offset % file.alignment_ != 0) {
      return FormatError("GGUF " + what + " has data offset " + integer_text(offset) + ", not a multiple of the alignment " +
                         integer_text(file.alignment_));
    }
    if (!file.tensor_index_.emplace(info.name, file.tensors_.size()).second) {
      return FormatError("GGUF tensor name '" + info.name + "' appears twice");
    }
    NIBBLE_RETURN_IF_ERROR(parser.Spend(what, TensorMemory(info.name.size())));
    relative_offsets.push_back(offset);
    file.tensors_.push_back(std::move(info));
  }

  // Tensor data starts at the next multiple of the alignment.
  const uint64_t table_end = r.pos();
  file.data_offset_ = table_end + (file.alignment_ - table_end % file.alignment_) % file.alignment_;

  // Every tensor lies inside the file.
  for (size_t n = 0; n < file.tensors_.size(); ++n) {
    GgufTensorInfo& t = file.tensors_[n];
    const uint64_t rel = relative_offsets[n];
    const bool start_ok = rel <= file_size && file.data_offset_ <= file_size - rel;
    if (!start_ok || t.bytes > file_size - (file.data_offset_ + rel)) {
      // Spell the range as sums when the numbers would overflow.
      const uint64_t start = file.data_offset_ + rel;
      const bool exact = start_ok && t.bytes <= ~uint64_t(0) - start;
      const std::string range = exact ? "[" + integer_text(start) + ", " + integer_text(start + t.bytes) + ")"
                                      : "[" + integer_text(file.data_offset_) + " + " + integer_text(rel) + ", ... + " +
                                            integer_text(t.bytes) + ")";
      return FormatError("tensor " + t.name + " is truncated: needs bytes " + range + " but the file has " +
                         integer_text(file_size));
    }
    t.offset = file.data_offset_ + rel;
  }
  // No two tensors share bytes.
  std::vector<const GgufTensorInfo*> by_offset;
  for (const GgufTensorInfo& t : file.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t n = 1; n < by_offset.size(); ++n) {
    const GgufTensorInfo& a = *by_offset[n - 1];
    const GgufTensorInfo& b = *by_offset[n];
    if (a.offset + a.bytes > b.offset) {
      return FormatError("GGUF tensors " + a.name + " and " + b.name + " overlap: " + a.name + " is [" +
                         integer_text(a.offset) + ", " + integer_text(a.offset + a.bytes) + ") and " + b.name + " starts at " +
                         integer_text(b.offset));
    }
  }
  *out = std::move(file);
  return Status::Ok();
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

std::string DescribeValueType(const GgufValue& v) {
  if (v.type == GgufType::ARRAY) return std::string("an array of ") + gguf_type_name(v.array_type);
  return std::string("a ") + gguf_type_name(v.type);
}

// The value under `key`, or an error saying it is missing.
Status Lookup(const GgufFile& file, const std::string& key, const GgufValue** out) {
  *out = file.find(key);
  if (*out == nullptr) return FormatError("GGUF metadata key '" + key + "' is missing");
  return Status::Ok();
}

Status WrongType(const std::string& key, const GgufValue& v, const char* expected) {
  return FormatError("GGUF metadata key '" + key + "' is " + DescribeValueType(v) + ", expected " + expected);
}

}  // namespace

Status GgufFile::get_int(const std::string& key, int64_t* out) const {
  const GgufValue* v = nullptr;
  NIBBLE_RETURN_IF_ERROR(Lookup(*this, key, &v));
  if (!IsIntegerType(v->type)) return WrongType(key, *v, "an integer");
  if (v->type == GgufType::UINT64 && v->i < 0) {
    return OutOfRange("GGUF metadata key '" + key + "' = " + integer_text(uint64_t(v->i)) + " does not fit in int64");
  }
  *out = v->i;
  return Status::Ok();
}

Status GgufFile::get_float(const std::string& key, double* out) const {
  const GgufValue* v = nullptr;
  NIBBLE_RETURN_IF_ERROR(Lookup(*this, key, &v));
  if (IsFloatType(v->type)) {
    *out = v->f;
  } else if (IsIntegerType(v->type) && v->type != GgufType::BOOL) {
    *out = v->type == GgufType::UINT64 ? double(uint64_t(v->i)) : double(v->i);
  } else {
    return WrongType(key, *v, "a number");
  }
  return Status::Ok();
}

Status GgufFile::get_string(const std::string& key, std::string* out) const {
  const GgufValue* v = nullptr;
  NIBBLE_RETURN_IF_ERROR(Lookup(*this, key, &v));
  if (v->type != GgufType::STRING) return WrongType(key, *v, "a string");
  *out = v->s;
  return Status::Ok();
}

Status GgufFile::get_strings(const std::string& key, const std::vector<std::string>** out) const {
  const GgufValue* v = nullptr;
  NIBBLE_RETURN_IF_ERROR(Lookup(*this, key, &v));
  if (v->type != GgufType::ARRAY || v->array_type != GgufType::STRING) {
    return WrongType(key, *v, "an array of string");
  }
  *out = &v->strings;
  return Status::Ok();
}

Status GgufFile::get_ints(const std::string& key, const std::vector<int64_t>** out) const {
  const GgufValue* v = nullptr;
  NIBBLE_RETURN_IF_ERROR(Lookup(*this, key, &v));
  if (v->type != GgufType::ARRAY || !IsIntegerType(v->array_type)) {
    return WrongType(key, *v, "an array of integers");
  }
  *out = &v->ints;
  return Status::Ok();
}

Status GgufFile::get_floats(const std::string& key, const std::vector<double>** out) const {
  const GgufValue* v = nullptr;
  NIBBLE_RETURN_IF_ERROR(Lookup(*this, key, &v));
  if (v->type != GgufType::ARRAY || !IsFloatType(v->array_type)) {
    return WrongType(key, *v, "an array of floats");
  }
  *out = &v->floats;
  return Status::Ok();
}

}  // namespace nibble
