#include "tokenizer/bpe_merge.h"

#include <queue>

#include "tokenizer/unicode.h"

namespace nibble {

namespace {

// A piece in a doubly linked list over the text; a merged-away piece has
// length 0. A piece's start never changes, so (index, length) names its text.
struct Piece {
  uint32_t start;
  uint32_t length;
  int32_t prev;  // -1: none
  int32_t next;
};

// A pair that may merge, as it was when queued; stale once either piece changed.
struct Candidate {
  double priority;
  int32_t left;
  int32_t right;
  uint32_t left_length;
  uint32_t right_length;
};

// Orders the max-heap: higher priority first, then the leftmost pair.
struct CandidateOrder {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.left > b.left;
  }
};

}  // namespace

std::vector<TextSpan> bpe_merge(const std::string& text, const PairPriority& priority) {
  std::vector<Piece> pieces;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8(text.data() + pos, text.size() - pos);
    const int32_t index = static_cast<int32_t>(pieces.size());
    pieces.push_back({static_cast<uint32_t>(pos), c.length, index - 1, index + 1});
    pos += c.length;
  }
  if (pieces.empty()) return {};
  pieces.back().next = -1;

  std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> queue;
  auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Piece& l = pieces[left];
    const Piece& r = pieces[right];
    double p = 0;
    if (priority(text.data() + l.start, l.length, r.length, &p)) {
      queue.push({p, left, right, l.length, r.length});
    }
  };
  for (int32_t i = 1; i < static_cast<int32_t>(pieces.size()); ++i) consider(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Piece& left = pieces[c.left];
    if (left.next != c.right || left.length != c.left_length) continue;  // stale
    Piece& right = pieces[c.right];
    if (right.length != c.right_length) continue;  // stale
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) pieces[right.next].prev = c.left;
    consider(left.prev, c.left);
    consider(c.left, left.next);
  }

  std::vector<TextSpan> out;
  for (int32_t i = 0; i >= 0; i = pieces[i].next) out.push_back({pieces[i].start, pieces[i].length});
  return out;
}

}  // namespace nibble
