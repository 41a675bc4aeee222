// GGUF v3 reader and writer. Every byte read comes from outside and is
// checked: a count, a length, an offset or a type that does not fit the
// buffer yields a Status naming what is wrong, never an out-of-bounds read.
//
// Layout (little-endian): magic "GGUF", u32 version (3; 2 also read), u64
// tensor count, u64 metadata count, metadata key/values, tensor infos, padding
// to `general.alignment` (default 32), tensor data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "quant/block_formats.h"
#include "runtime/status.h"

namespace nibble {

// Data alignment of a GGUF file without a "general.alignment" key.
constexpr uint32_t kGgufDefaultAlignment = 32;
// Limits that keep a hostile header from exhausting the (4 GB) heap. Real
// headers are a few MB (Qwen2.5's 151,936 tokens and merges: ~5 MB, Gemma 3's
// 262,144: ~7 MB). The header (metadata and tensor table) must end within its
// first kGgufMaxHeaderBytes; read values may take kGgufMaxMetadataMemory, which
// an array of 1-byte integers (8 bytes each once read) could otherwise pass.
constexpr uint64_t kGgufMaxHeaderBytes = uint64_t(64) << 20;
constexpr uint64_t kGgufMaxMetadataMemory = uint64_t(256) << 20;


enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5,
  FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};

// One metadata value. Scalars are widened into the matching field; arrays of
// scalars into the vectors; arrays of strings into `strings`.
struct GgufValue {
  GgufType type = GgufType::UINT32;
  GgufType array_type = GgufType::UINT32;  // element type when type == ARRAY
  int64_t i = 0;        // any integer type or BOOL (UINT64 stored bit-cast)
  double f = 0;         // FLOAT32 / FLOAT64
  std::string s;        // STRING
  std::vector<int64_t> ints;      // arrays of integers / bools (UINT64 bit-cast)
  std::vector<double> floats;     // arrays of floats
  std::vector<std::string> strings;  // arrays of strings
};

// "uint32", "string", "array" ... for messages; "unknown" if out of range.
const char* gguf_type_name(GgufType type);

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // GGUF order: shape[0] is the row length (K)
  TensorType type = TensorType::F32;
  uint64_t offset = 0;         // absolute byte offset in the file
  uint64_t bytes = 0;          // size of the data
  int64_t elements() const;
};

class GgufFile {
 public:
  // Parses header, metadata and tensor table from the first `size` bytes of a
  // file that is `file_size` bytes long; tensor data need not be present.
  // If the prefix ends before the tensor table does, returns an error and sets
  // *need_more (when given) so a streaming loader can retry with more bytes
  // (never once kGgufMaxHeaderBytes are at hand: a longer header is an error).
  // On success every tensor is known to have a supported type, a valid shape,
  // an aligned offset and bytes [offset, offset + bytes) inside `file_size`,
  // disjoint from every other tensor. Malformed input gives kFormat errors
  // naming the key or tensor; *out is only written on success.
  // Tensor data is not copied: it is data + tensor.offset in the caller's bytes.
  // With need_more given (a streaming loader), a first pass steps over the
  // texts of string arrays to learn, in a few ms, whether the header is
  // complete; only then are they copied (a vocabulary's ~300k texts: real
  // Qwen2 and Llama 3 headers, 5.9 and 7.8 MB, are longer than a first try).
  static Status Parse(const uint8_t* data, size_t size, uint64_t file_size,
                      GgufFile* out, bool* need_more = nullptr);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of tensor data
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  std::map<std::string, GgufValue>* mutable_metadata() { return &metadata_; }
  // Metadata keys in file order (e.g. to copy metadata to a new file).
  const std::vector<std::string>& metadata_keys() const { return metadata_keys_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  const GgufValue* find(const std::string& key) const;
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  // Typed getters: an error names the key and what was found instead.
  // get_int accepts any integer type or bool; get_float any float or integer.
  Status get_int(const std::string& key, int64_t* out) const;
  Status get_float(const std::string& key, double* out) const;
  Status get_string(const std::string& key, std::string* out) const;
  // Array getters: *out points into metadata() (valid while this file lives).
  Status get_strings(const std::string& key, const std::vector<std::string>** out) const;
  Status get_ints(const std::string& key, const std::vector<int64_t>** out) const;    // integer/bool arrays
  Status get_floats(const std::string& key, const std::vector<double>** out) const;   // float arrays

 private:
  // Parse; texts = false: string arrays' elements stepped over, not kept.
  static Status ParseWith(const uint8_t* data, size_t size, uint64_t file_size, GgufFile* out, bool* need_more,
                          bool texts);
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::map<std::string, GgufValue> metadata_;
  std::vector<std::string> metadata_keys_;      // in file order
  std::vector<GgufTensorInfo> tensors_;          // in file order
  std::map<std::string, size_t> tensor_index_;   // name -> index in tensors_
};

// Writes a GGUF v3 file: add metadata and tensors, then serialize.
class GgufWriter {
 public:
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string(const std::string& key, const std::string& v);
  void set_string_array(const std::string& key, const std::vector<std::string>& v);
  void set_f32_array(const std::string& key, const std::vector<float>& v);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& v);
  // Any value, written with its own type (array_type for arrays). Setting a
  // key again replaces its value in place. A "general.alignment" key (u32,
  // power of two) changes the alignment used; the default is 32. The value
  // must be a valid GGUF value (not an array of arrays).
  void set_value(const std::string& key, const GgufValue& v);
  // data holds row_size(type, shape[0]) * (rows) bytes; it is copied.
  Status add_tensor(const std::string& name, TensorType type,
                    const std::vector<int64_t>& shape, const void* data, size_t bytes);
  // The whole file.
  std::vector<uint8_t> serialize() const;

 private:
  std::vector<std::pair<std::string, GgufValue>> kv_;
  struct Tensor {
    std::string name;
    TensorType type;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
  };
  std::vector<Tensor> tensors_;
};

}  // namespace nibble
