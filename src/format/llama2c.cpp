// llama2.c checkpoint reader: header checks and the tensor table.
#include "format/llama2c.h"

#include <limits>

#include "format/byte_reader.h"
#include "runtime/decimal_text.h"

namespace nibble {
namespace {

constexpr uint64_t kHeaderBytes = 7 * 4;
constexpr int32_t kMaxLayers = 4096;
// The first word of llama2.c's newer export formats (version 1 and 2).
constexpr uint32_t kVersionedExportMagic = 0x616b3432;  // "ak42"

// a · b, or false when the product exceeds 2^62 (far beyond any real file,
// and small enough that sums of a few such sizes cannot overflow).
bool MulChecked(uint64_t a, uint64_t b, uint64_t* out) {
  constexpr uint64_t kLimit = uint64_t(1) << 62;
  if (a != 0 && b > kLimit / a) return false;
  *out = a * b;
  return true;
}

// Lays F32 tensors out one after another from a running offset.
class TableBuilder {
 public:
  explicit TableBuilder(std::vector<Llama2cTensor>* tensors) : tensors_(tensors) {}

  // A tensor with GGUF shape (row length first). False on overflow.
  bool add(const std::string& name, Llama2cWeight weight, int32_t layer, std::vector<int64_t> shape) {
    uint64_t bytes = 4;
    for (int64_t d : shape) {
      if (!MulChecked(bytes, uint64_t(d), &bytes)) return false;
    }
    Llama2cTensor t;
    t.name = layer < 0 ? name : name + "[" + integer_text(layer) + "]";
    t.weight = weight;
    t.layer = layer;
    t.shape = std::move(shape);
    t.offset = offset_;
    t.bytes = bytes;
    tensors_->push_back(std::move(t));
    return skip(bytes);
  }
  // A field stacked over layers: name[N] for N = 0..L-1.
  bool add_layers(int32_t n_layers, const std::string& name, Llama2cWeight weight, const std::vector<int64_t>& shape) {
    for (int32_t l = 0; l < n_layers; ++l) {
      if (!add(name, weight, l, shape)) return false;
    }
    return true;
  }
  bool skip(uint64_t bytes) {
    if (bytes > (uint64_t(1) << 62) - offset_) return false;
    offset_ += bytes;
    return true;
  }
  uint64_t offset() const { return offset_; }

 private:
  std::vector<Llama2cTensor>* tensors_;
  uint64_t offset_ = kHeaderBytes;
};

Status CheckPositive(const char* field, int32_t v) {
  if (v <= 0) return FormatError("llama2.c checkpoint: " + std::string(field) + " is " + integer_text(v) +
                                 " (must be positive)");
  return Status::Ok();
}

}  // namespace

const Llama2cTensor* Llama2cCheckpoint::find_tensor(const std::string& name) const {
  for (const Llama2cTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Status ParseLlama2cCheckpoint(const uint8_t* data, size_t size, uint64_t file_size, Llama2cCheckpoint* out) {
  if (data == nullptr && size != 0) return InvalidArgument("ParseLlama2cCheckpoint: data is null");
  if (size > file_size) {
    return InvalidArgument("ParseLlama2cCheckpoint: " + integer_text(size) + " bytes given for a file of " +
                           integer_text(file_size) + " bytes");
  }
  if (file_size < kHeaderBytes) {
    return FormatError("llama2.c checkpoint is truncated: the header needs 28 bytes but the file has " +
                       integer_text(file_size));
  }
  if (size < kHeaderBytes) {
    return InvalidArgument("ParseLlama2cCheckpoint: give at least the 28 header bytes (got " + integer_text(size) + ")");
  }
  ByteReader r(data, size, file_size);
  Llama2cCheckpoint c;
  int32_t* const fields[] = {&c.dim, &c.hidden_dim, &c.n_layers, &c.n_heads, &c.n_kv_heads, &c.vocab_size, &c.seq_len};
  for (int32_t* f : fields) r.read_i32(f);
  if (uint32_t(c.dim) == kVersionedExportMagic) {
    return FormatError("llama2.c checkpoint uses the versioned export format (magic 'ak42'); "
                       "nibble reads the legacy format (export.py --version 0)");
  }
  NIBBLE_RETURN_IF_ERROR(CheckPositive("dim", c.dim));
  NIBBLE_RETURN_IF_ERROR(CheckPositive("hidden_dim", c.hidden_dim));
  NIBBLE_RETURN_IF_ERROR(CheckPositive("n_layers", c.n_layers));
  NIBBLE_RETURN_IF_ERROR(CheckPositive("n_heads", c.n_heads));
  NIBBLE_RETURN_IF_ERROR(CheckPositive("n_kv_heads", c.n_kv_heads));
  NIBBLE_RETURN_IF_ERROR(CheckPositive("seq_len", c.seq_len));
  if (c.vocab_size == 0 || c.vocab_size == std::numeric_limits<int32_t>::min()) {
    return FormatError("llama2.c checkpoint: vocab_size is " + integer_text(c.vocab_size));
  }
  // A negative vocab_size is how llama2.c marks a separate classifier.
  c.shared_classifier = c.vocab_size > 0;
  if (c.vocab_size < 0) c.vocab_size = -c.vocab_size;
  // Bounds the tensor table (9 entries per layer); real models have < 200.
  if (c.n_layers > kMaxLayers) {
    return FormatError("llama2.c checkpoint: n_layers " + integer_text(c.n_layers) + " is more than " +
                       integer_text(kMaxLayers) + " (corrupt header?)");
  }
  if (c.dim % c.n_heads != 0) {
    return FormatError("llama2.c checkpoint: dim " + integer_text(c.dim) + " is not a multiple of n_heads " +
                       integer_text(c.n_heads));
  }
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0) {
    return FormatError("llama2.c checkpoint: n_heads " + integer_text(c.n_heads) +
                       " is not a multiple of n_kv_heads " + integer_text(c.n_kv_heads));
  }
  if (c.head_size() % 2 != 0) {
    return FormatError("llama2.c checkpoint: head size " + integer_text(c.head_size()) +
                       " is odd (RoPE rotates pairs)");
  }

  // The tensor table in file order; GGUF shapes are [row length, rows].
  const int64_t dim = c.dim, hidden = c.hidden_dim, kv_dim = c.kv_dim(), vocab = c.vocab_size;
  TableBuilder table(&c.tensors);
  using W = Llama2cWeight;
  const int32_t L = c.n_layers;
  bool fits = table.add("token_embedding_table", W::kTokenEmbeddingTable, -1, {dim, vocab}) &&
              table.add_layers(L, "rms_att_weight", W::kRmsAttWeight, {dim}) &&
              table.add_layers(L, "wq", W::kWq, {dim, dim}) &&
              table.add_layers(L, "wk", W::kWk, {dim, kv_dim}) &&
              table.add_layers(L, "wv", W::kWv, {dim, kv_dim}) &&
              table.add_layers(L, "wo", W::kWo, {dim, dim}) &&
              table.add_layers(L, "rms_ffn_weight", W::kRmsFfnWeight, {dim}) &&
              table.add_layers(L, "w1", W::kW1, {dim, hidden}) &&
              table.add_layers(L, "w2", W::kW2, {hidden, dim}) &&
              table.add_layers(L, "w3", W::kW3, {dim, hidden}) &&
              table.add("rms_final_weight", W::kRmsFinalWeight, -1, {dim});
  // freq_cis_real and freq_cis_imag: [seq_len, head_size / 2] floats each.
  uint64_t freq_bytes = 0;
  fits = fits && MulChecked(uint64_t(c.seq_len) * uint64_t(c.head_size() / 2), 2 * 4, &freq_bytes) &&
         table.skip(freq_bytes);
  if (fits && !c.shared_classifier) fits = table.add("wcls", W::kWcls, -1, {dim, vocab});
  if (!fits) {
    return FormatError("llama2.c checkpoint: the header (dim " + integer_text(c.dim) + ", hidden_dim " +
                       integer_text(c.hidden_dim) + ", n_layers " + integer_text(c.n_layers) +
                       ", vocab_size " + integer_text(c.vocab_size) + ", seq_len " + integer_text(c.seq_len) +
                       ") describes more than 2^62 bytes of weights");
  }

  const uint64_t expected = table.offset();
  const std::string classifier = c.shared_classifier ? "shared classifier" : "separate classifier";
  if (file_size < expected) {
    for (const Llama2cTensor& t : c.tensors) {
      if (t.offset + t.bytes > file_size) {
        return FormatError("llama2.c checkpoint is truncated: tensor " + t.name + " needs bytes [" +
                           integer_text(t.offset) + ", " + integer_text(t.offset + t.bytes) + ") but the file has " + integer_text(file_size));
      }
    }
    return FormatError("llama2.c checkpoint is truncated: the header implies " + integer_text(expected) + " bytes (" +
                       classifier + ", RoPE tables included) but the file has " + integer_text(file_size));
  }
  if (file_size > expected) {
    return FormatError("llama2.c checkpoint has " + integer_text(file_size - expected) + " bytes more than the " +
                       integer_text(expected) + " its header implies (" + classifier +
                       "); is it a different format or a mismatched vocab_size sign?");
  }
  *out = std::move(c);
  return Status::Ok();
}

}  // namespace nibble
