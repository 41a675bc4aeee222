// ByteReader: a bounds-checked little-endian cursor over untrusted bytes.
//
// It reads from the first `size` bytes of a file whose declared length is
// `file_size` (>= size): a streaming loader may hand over only a prefix. Every
// read either succeeds completely or fails and leaves the reader failed
// (sticky: later reads fail too, so a parser may check once after a group of
// reads). Two kinds of failure are told apart:
//   kTruncated — the read runs past the bytes at hand. If the prefix is shorter
//                than the file, more bytes may fix it (need_more); otherwise
//                the file itself is truncated.
//   kTooLarge  — a count or length that no file of `file_size` bytes could
//                hold (e.g. 2^60 entries). Caught before anything is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace nibble {

class ByteReader {
 public:
  enum class Failure { kNone, kTruncated, kTooLarge };

  ByteReader(const uint8_t* data, size_t size, uint64_t file_size)
      : data_(data), size_(size), file_size_(file_size < size ? size : file_size) {}
  ByteReader(const uint8_t* data, size_t size) : ByteReader(data, size, size) {}

  bool ok() const { return failure_ == Failure::kNone; }
  Failure failure() const { return failure_; }
  // Offset at which the failing read started, and for kTooLarge the rejected
  // count or length.
  uint64_t failure_offset() const { return failure_offset_; }
  uint64_t failure_value() const { return failure_value_; }
  uint64_t pos() const { return pos_; }
  size_t size() const { return size_; }
  uint64_t file_size() const { return file_size_; }
  // True when the bytes at hand are only a prefix of the file.
  bool is_prefix() const { return size_ < file_size_; }
  // The bytes at hand from the cursor on (remaining() of them), for a loop
  // that checks its own bounds and then skip()s what it read.
  const uint8_t* here() const { return data_ + pos_; }
  // Bytes left in the buffer / in the whole file.
  uint64_t remaining() const { return size_ - pos_; }
  uint64_t remaining_in_file() const { return file_size_ - pos_; }

  bool read_u8(uint8_t* v) { return read_le(v, 1); }
  bool read_u16(uint16_t* v) { return read_le(v, 2); }
  bool read_u32(uint32_t* v) { return read_le(v, 4); }
  bool read_u64(uint64_t* v) { return read_le(v, 8); }
  bool read_i8(int8_t* v) { return read_le(v, 1); }
  bool read_i16(int16_t* v) { return read_le(v, 2); }
  bool read_i32(int32_t* v) { return read_le(v, 4); }
  bool read_i64(int64_t* v) { return read_le(v, 8); }
  bool read_f32(float* v) { return read_le(v, 4); }
  bool read_f64(double* v) { return read_le(v, 8); }

  // A u64 byte length followed by that many bytes.
  bool read_string(std::string* out) {
    const uint64_t start = pos_;
    uint64_t length = 0;
    if (!read_u64(&length)) return false;
    if (length > remaining_in_file()) return fail(Failure::kTooLarge, start, length);
    if (length > remaining()) return fail(Failure::kTruncated, start);
    out->assign(reinterpret_cast<const char*>(data_ + pos_), size_t(length));
    pos_ += length;
    return true;
  }

  bool skip(uint64_t n) {
    if (!ok()) return false;
    if (n > remaining_in_file()) return fail(Failure::kTooLarge, pos_, n);
    if (n > remaining()) return fail(Failure::kTruncated, pos_);
    pos_ += n;
    return true;
  }

  // Checks that `count` items of at least `min_bytes_each` bytes can fit in
  // the rest of the file, without overflow. Use it before reserving memory.
  // `count_offset` is where the count was read (reported on failure).
  bool check_count(uint64_t count, uint64_t min_bytes_each, uint64_t count_offset) {
    if (!ok()) return false;
    if (min_bytes_each != 0 && count > remaining_in_file() / min_bytes_each) {
      return fail(Failure::kTooLarge, count_offset, count);
    }
    return true;
  }

  // How many items of `bytes_each` the buffer at hand can still hold: a safe
  // bound for reserve(), since items are only added as they are read.
  uint64_t max_items_in_buffer(uint64_t bytes_each) const {
    return bytes_each == 0 ? 0 : remaining() / bytes_each;
  }

 private:
  // Little-endian load of n bytes into *v (host is little-endian: x86, wasm).
  template <typename T>
  bool read_le(T* v, size_t n) {
    static_assert(sizeof(T) <= 8, "scalar reads only");
    if (!ok()) return false;
    if (n > remaining()) return fail(Failure::kTruncated, pos_);
    uint64_t bits = 0;
    for (size_t i = 0; i < n; ++i) bits |= uint64_t(data_[pos_ + i]) << (8 * i);
    std::memcpy(v, &bits, sizeof(T));  // low bytes of `bits` on little-endian
    pos_ += n;
    return true;
  }

  bool fail(Failure failure, uint64_t offset, uint64_t value = 0) {
    failure_ = failure;
    failure_offset_ = offset;
    failure_value_ = value;
    return false;
  }

  const uint8_t* data_;
  size_t size_;
  uint64_t file_size_;
  uint64_t pos_ = 0;
  Failure failure_ = Failure::kNone;
  uint64_t failure_offset_ = 0;
  uint64_t failure_value_ = 0;
};

}  // namespace nibble
