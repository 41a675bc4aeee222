#include "tokenizer/split_regex.h"

#include "runtime/decimal_text.h"

namespace nibble {
namespace {

constexpr uint16_t kNotWhitespace = 0x100;  // CharSet::classes bit for \S inside a class

uint16_t class_bit(CodepointClass c) { return uint16_t(1u << unsigned(c)); }

}  // namespace

bool SplitRegex::CharSet::matches(uint32_t cp, CodepointClass cls) const {
  bool hit = (classes & class_bit(cls)) != 0 ||
             ((classes & kNotWhitespace) != 0 && cls != CodepointClass::kWhitespace);
  // A non-ASCII white-space character stands for \v (see the header).
  if (!hit && !(cp > 0x7F && cls == CodepointClass::kWhitespace)) {
    for (const auto& r : ranges) {
      if (cp >= r.first && cp <= r.second) {
        hit = true;
        break;
      }
    }
  }
  return hit != negated;
}

// Recursive descent over the pattern's code points.
class RegexParser {
 public:
  RegexParser(const std::string& pattern, SplitRegex* re) : pattern_(pattern), re_(re) {
    for (size_t at = 0; at < pattern.size();) {
      const Utf8Char c = decode_utf8(pattern.data() + at, pattern.size() - at);
      cps_.push_back(c.cp);
      at += c.length;
    }
  }

  Status parse() {
    int top = 0;
    NIBBLE_RETURN_IF_ERROR(alternation(&top));
    if (pos_ != cps_.size()) return error("an unmatched ')'");
    return Status::Ok();
  }

 private:
  Status error(const std::string& what) const {
    return InvalidArgument("pre-tokenizer regex \"" + pattern_ + "\": " + what + " at character " +
                           integer_text(pos_));
  }
  bool at(uint32_t c) const { return pos_ < cps_.size() && cps_[pos_] == c; }
  bool take(uint32_t c) {
    if (!at(c)) return false;
    ++pos_;
    return true;
  }

  // branch ('|' branch)*, up to ')' or the end.
  Status alternation(int* index) {
    *index = int(re_->alternations_.size());
    re_->alternations_.emplace_back();
    do {
      SplitRegex::Sequence seq;
      NIBBLE_RETURN_IF_ERROR(sequence(&seq));
      re_->alternations_[size_t(*index)].push_back(std::move(seq));
    } while (take('|'));
    return Status::Ok();
  }

  Status sequence(SplitRegex::Sequence* seq) {
    while (pos_ < cps_.size() && !at('|') && !at(')')) {
      SplitRegex::Node node{SplitRegex::Node::kSet, 0, 1, 1};
      if (take('(')) {
        if (!take('?')) return error("a capturing group (use (?:...))");
        if (take(':')) node.kind = SplitRegex::Node::kGroup;
        else if (take('!')) node.kind = SplitRegex::Node::kNegativeLookahead;
        else return error("a group kind other than (?: and (?!");
        NIBBLE_RETURN_IF_ERROR(alternation(&node.index));
        if (!take(')')) return error("a '(' without ')'");
      } else if (take('$')) {
        node.kind = SplitRegex::Node::kEnd;
      } else {
        SplitRegex::CharSet set;
        NIBBLE_RETURN_IF_ERROR(take('[') ? char_class(&set) : atom(&set, false));
        node.index = int(re_->sets_.size());
        re_->sets_.push_back(std::move(set));
      }
      NIBBLE_RETURN_IF_ERROR(quantifier(&node));
      seq->push_back(node);
    }
    return Status::Ok();
  }

  // One character or escape into `set` (inside a class: no \S outside it).
  Status atom(SplitRegex::CharSet* set, bool in_class) {
    if (pos_ >= cps_.size()) return error("a pattern that ends early");
    const uint32_t c = cps_[pos_++];
    if (c == '.' && !in_class) return error("'.'");
    if (c != '\\') {
      set->ranges.push_back({c, c});
      return Status::Ok();
    }
    if (pos_ >= cps_.size()) return error("a trailing '\\'");
    const uint32_t e = cps_[pos_++];
    switch (e) {
      case 's': set->classes |= class_bit(CodepointClass::kWhitespace); return Status::Ok();
      case 'S':
        if (in_class) {
          set->classes |= kNotWhitespace;
        } else {
          set->negated = true;
          set->classes |= class_bit(CodepointClass::kWhitespace);
        }
        return Status::Ok();
      case 'p': {
        if (!take('{') || pos_ + 2 > cps_.size() || cps_[pos_ + 1] != '}') return error("a \\p without {L}, {N} or {P}");
        const uint32_t name = cps_[pos_];
        pos_ += 2;
        if (name == 'L') set->classes |= class_bit(CodepointClass::kLetter);
        else if (name == 'N') set->classes |= class_bit(CodepointClass::kNumber);
        else if (name == 'P') set->classes |= class_bit(CodepointClass::kPunctuation);
        else return error("a Unicode class other than \\p{L}, \\p{N}, \\p{P}");
        return Status::Ok();
      }
      case 'r': set->ranges.push_back({'\r', '\r'}); return Status::Ok();
      case 'n': set->ranges.push_back({'\n', '\n'}); return Status::Ok();
      case 't': set->ranges.push_back({'\t', '\t'}); return Status::Ok();
      case 'v': set->ranges.push_back({'\v', '\v'}); return Status::Ok();
      case 'f': set->ranges.push_back({'\f', '\f'}); return Status::Ok();
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))
          return error("an escape this engine does not know");
        set->ranges.push_back({e, e});  // an escaped punctuation character stands for itself
        return Status::Ok();
    }
  }

  // After '[': items up to ']', with ranges a-b of single characters.
  Status char_class(SplitRegex::CharSet* set) {
    if (take('^')) set->negated = true;
    bool first = true;
    while (!at(']') || first) {
      if (pos_ >= cps_.size()) return error("a '[' without ']'");
      first = false;
      SplitRegex::CharSet item;
      NIBBLE_RETURN_IF_ERROR(atom(&item, true));
      set->classes |= item.classes;
      if (item.ranges.size() == 1 && at('-') && pos_ + 1 < cps_.size() && cps_[pos_ + 1] != ']') {
        ++pos_;
        SplitRegex::CharSet high;
        NIBBLE_RETURN_IF_ERROR(atom(&high, true));
        if (high.ranges.size() != 1 || high.ranges[0].first < item.ranges[0].first)
          return error("a range whose end is not a character at or after its start");
        set->ranges.push_back({item.ranges[0].first, high.ranges[0].first});
      } else {
        set->ranges.insert(set->ranges.end(), item.ranges.begin(), item.ranges.end());
      }
    }
    ++pos_;  // ']'
    return Status::Ok();
  }

  Status quantifier(SplitRegex::Node* node) {
    int min = 1, max = 1;
    if (take('?')) {
      min = 0;
    } else if (take('*')) {
      min = 0;
      max = kUnbounded;
    } else if (take('+')) {
      max = kUnbounded;
    } else if (take('{')) {
      NIBBLE_RETURN_IF_ERROR(number(&min));
      max = min;
      if (take(',')) NIBBLE_RETURN_IF_ERROR(number(&max));
      if (!take('}') || max < min) return error("a malformed {n,m}");
    } else {
      return Status::Ok();
    }
    if (node->kind != SplitRegex::Node::kSet) return error("a quantifier on something other than a character or class");
    if (at('?') || at('+')) return error("a lazy or possessive quantifier");
    node->min = min;
    node->max = max;
    return Status::Ok();
  }

  Status number(int* out) {
    int v = 0, digits = 0;
    while (pos_ < cps_.size() && cps_[pos_] >= '0' && cps_[pos_] <= '9' && digits < 6) {
      v = v * 10 + int(cps_[pos_++] - '0');
      ++digits;
    }
    if (digits == 0) return error("a {n,m} without a number");
    *out = v;
    return Status::Ok();
  }

  static constexpr int kUnbounded = 1 << 30;
  const std::string& pattern_;
  SplitRegex* re_;
  std::vector<uint32_t> cps_;
  size_t pos_ = 0;
};

Status SplitRegex::Compile(const std::string& pattern, SplitRegex* out) {
  SplitRegex re;
  NIBBLE_RETURN_IF_ERROR(RegexParser(pattern, &re).parse());
  *out = std::move(re);
  return Status::Ok();
}

// What is left to match after a group: the rest of the enclosing sequence.
struct SplitRegex::Frame {
  const Sequence* seq;
  size_t node;
  const Frame* next;
};

bool SplitRegex::run(const TextChars& s, size_t end, const Sequence& seq, size_t node, size_t pos,
                     const Frame* next, size_t* stop) const {
  if (node == seq.size()) {
    if (next == nullptr) {
      *stop = pos;
      return true;
    }
    return run(s, end, *next->seq, next->node, pos, next->next, stop);
  }
  const Node& n = seq[node];
  switch (n.kind) {
    case Node::kSet: {
      // Greedy: the longest run first, then shorter ones.
      const CharSet& set = sets_[size_t(n.index)];
      size_t count = 0;
      while (count < size_t(n.max) && pos + count < end && set.matches(s.cp[pos + count], s.cls[pos + count]))
        ++count;
      for (size_t c = count + 1; c-- > size_t(n.min);)
        if (run(s, end, seq, node + 1, pos + c, next, stop)) return true;
      return false;
    }
    case Node::kGroup: {
      const Frame rest{&seq, node + 1, next};
      for (const Sequence& branch : alternations_[size_t(n.index)])
        if (run(s, end, branch, 0, pos, &rest, stop)) return true;
      return false;
    }
    case Node::kNegativeLookahead: {
      size_t ignored;
      for (const Sequence& branch : alternations_[size_t(n.index)])
        if (run(s, end, branch, 0, pos, nullptr, &ignored)) return false;
      return run(s, end, seq, node + 1, pos, next, stop);
    }
    case Node::kEnd:
      return pos == end && run(s, end, seq, node + 1, pos, next, stop);
  }
  return false;
}

bool SplitRegex::search(const TextChars& s, size_t from, size_t end, size_t* start, size_t* stop) const {
  for (size_t at = from; at < end; ++at) {
    for (const Sequence& branch : alternations_[0]) {
      if (run(s, end, branch, 0, at, nullptr, stop) && *stop > at) {
        *start = at;
        return true;
      }
    }
  }
  return false;
}

std::vector<TextSpan> regex_split(const std::string& text, const std::vector<SplitRegex>& regexes) {
  const TextChars s = split_chars(text);
  // Pieces as [first, last) character indices.
  std::vector<std::pair<size_t, size_t>> pieces;
  if (s.size() > 0) pieces.push_back({0, s.size()});
  for (const SplitRegex& re : regexes) {
    std::vector<std::pair<size_t, size_t>> split;
    for (const auto& piece : pieces) {
      size_t pos = piece.first, start = 0, stop = 0;
      while (pos < piece.second && re.search(s, pos, piece.second, &start, &stop)) {
        if (start > pos) split.push_back({pos, start});
        split.push_back({start, stop});
        pos = stop;
      }
      if (pos < piece.second) split.push_back({pos, piece.second});
    }
    pieces.swap(split);
  }
  std::vector<TextSpan> spans;
  spans.reserve(pieces.size());
  for (const auto& piece : pieces)
    spans.push_back({s.offset[piece.first], s.offset[piece.second] - s.offset[piece.first]});
  return spans;
}

}  // namespace nibble
