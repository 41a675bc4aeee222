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
#include <functional>
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

  // Adds texts[i]. For a text already present: replace_equal keeps i (the
  // last wins), else the position already there (the first wins).
  void add(int32_t i, bool replace_equal) {
    const std::string& text = texts_[i];
    const size_t hash = std::hash<std::string_view>()(text);
    Slot& slot = slots_.get()[lookup(text, hash)];
    if (slot.position < 0) {
      slot = Slot{i, uint32_t(hash)};
      ++count_;
    } else if (replace_equal) {
      slot.position = i;
    }
  }

  // The position of `text`, or -1.
  int32_t find(std::string_view text) const {
    return !slots_ ? -1 : slots_.get()[lookup(text, std::hash<std::string_view>()(text))].position;
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
  // The slot holding `text`, or the empty slot where it would go (the
  // table is never full: reset() sizes it to at most half).
  size_t lookup(std::string_view text, size_t hash) const {
    const Slot* slots = slots_.get();  // (not unique_ptr's operator[]: a call at -Oz)
    for (size_t at = hash & mask_;; at = (at + 1) & mask_) {
      const Slot& s = slots[at];
      if (s.position < 0 || (s.hash == uint32_t(hash) && texts_[s.position] == text)) return at;
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
