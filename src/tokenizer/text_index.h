// TextIndex: text -> position in a vector of strings the index does not own
// (a vocabulary's tokens, its merges), an open-addressing table of int32
// positions. It replaces std::unordered_map<std::string, int32_t>, which for
// a 150k-token vocabulary copied every text into a node of its own: 300k
// allocations and copies when a Qwen-sized tokenizer is built during a model
// load (~0.1-0.2 s in wasm). Each slot keeps its text's hash beside the
// position, so a probe past another text rarely reads that text.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nibble {

class TextIndex {
 public:
  // Over `texts`, which must outlive the index and keep their strings.
  // `expected`: how many texts will be added (sizes the table once).
  void reset(const std::vector<std::string>* texts, size_t expected) {
    texts_ = texts->data();
    size_t capacity = 16;
    while (capacity < expected * 2) capacity *= 2;  // at most half full
    // Every slot empty (position -1) in one memset: a vector filled with an
    // empty slot constructs them one at a time in this size-optimized code
    // (-Oz), ~20 ms for a 150k-token vocabulary's million slots in wasm.
    slots_.reset(new Slot[capacity]);
    std::memset(slots_.get(), 0xff, capacity * sizeof(Slot));
    mask_ = capacity - 1;
    count_ = 0;
  }

  // Adds texts[ids[k]] for k < n (texts[k] when ids is null), as adding
  // them one by one in that order would: for equal texts the last
  // (replace_equal) or the first wins. Their slots are filled in table
  // order, not at random: hashed first, then sorted by the table's 4 KB
  // stretch their probe starts in (a counting sort, stable, so equal texts
  // keep their order). One at a time, each add was a cache miss in a 4 MB
  // table (a 150k-token vocabulary and its merges: ~80 ms of a load in wasm).
  // (Raw arrays in the loops: unique_ptr's operator[] is a call at -Oz.)
  void add_all(const int32_t* ids, size_t n, bool replace_equal) {
    std::unique_ptr<uint32_t[]> hash_buffer(new uint32_t[n]), order_buffer(new uint32_t[n]);
    uint32_t *hashes = hash_buffer.get(), *order = order_buffer.get();
    for (size_t k = 0; k < n; ++k) hashes[k] = hash_text(texts_[ids ? ids[k] : int32_t(k)]);
    const int shift = 9;  // a stretch: 512 slots
    const size_t stretches = (mask_ >> shift) + 1;
    std::unique_ptr<uint32_t[]> start(new uint32_t[stretches + 1]());
    uint32_t* first = start.get();
    for (size_t k = 0; k < n; ++k) ++first[((hashes[k] & mask_) >> shift) + 1];
    for (size_t b = 0; b < stretches; ++b) first[b + 1] += first[b];
    for (size_t k = 0; k < n; ++k) order[first[(hashes[k] & mask_) >> shift]++] = uint32_t(k);
    // (The text is read only when a slot holds the same hash: in this order
    // the texts are visited at random, each a cache miss.)
    Slot* slots = slots_.get();
    for (size_t j = 0; j < n; ++j) {
      const uint32_t k = order[j], h = hashes[k];
      const int32_t i = ids ? ids[k] : int32_t(k);
      for (size_t at = h & mask_;; at = (at + 1) & mask_) {
        Slot& s = slots[at];
        if (s.position < 0) {
          s = Slot{i, h};
          ++count_;
          break;
        }
        if (s.hash == h && texts_[s.position] == texts_[i]) {
          if (replace_equal) s.position = i;
          break;
        }
      }
    }
  }

  // The position of `text`, or -1.
  int32_t find(std::string_view text) const {
    return !slots_ ? -1 : slots_.get()[lookup(text, hash_text(text))].position;
  }

  // Every position held, in no particular order.
  std::vector<int32_t> positions() const {
    std::vector<int32_t> out;
    out.reserve(count_);
    for (size_t at = 0; slots_ && at <= mask_; ++at)
      if (slots_[at].position >= 0) out.push_back(slots_[at].position);
    return out;
  }

 private:
  // FNV-1a, then murmur3's finalizer (the table's slot and stretch come
  // from the low bits): inline, where std::hash was three calls per text
  // at -Oz.
  static uint32_t hash_text(std::string_view text) {
    uint32_t h = 2166136261u;
    for (const char c : text) h = (h ^ uint8_t(c)) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    return h ^ (h >> 16);
  }

  // The slot holding `text`, or the empty slot where it would go (the
  // table is never full: reset() sizes it to at most half).
  size_t lookup(std::string_view text, uint32_t hash) const {
    const Slot* slots = slots_.get();  // (not unique_ptr's operator[]: a call at -Oz)
    for (size_t at = hash & mask_;; at = (at + 1) & mask_) {
      const Slot& s = slots[at];
      if (s.position < 0 || (s.hash == hash && texts_[s.position] == text)) return at;
    }
  }

  struct Slot {
    int32_t position;  // in *texts_; -1: empty
    uint32_t hash;     // of that text
  };

  const std::string* texts_ = nullptr;  // the vector's strings
  std::unique_ptr<Slot[]> slots_;
  size_t mask_ = 0;  // slots - 1
  size_t count_ = 0;
};

}  // namespace nibble
