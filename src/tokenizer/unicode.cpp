#include "tokenizer/unicode.h"

#include <algorithm>
#include <vector>

#include "tokenizer/unicode_tables.h"

namespace nibble {

namespace {

// Reads a generated table's varints in order (the format: gen_unicode_tables.py).
class VarintReader {
 public:
  explicit VarintReader(const PackedRuns& table) : at_(table.bytes), end_(table.bytes + table.size) {}

  uint32_t next() {
    uint32_t value = 0;
    for (uint32_t shift = 0; at_ < end_; shift += 7) {
      const uint8_t byte = *at_++;
      value |= uint32_t(byte & 0x7F) << shift;
      if (!(byte & 0x80)) break;
    }
    return value;
  }
  // A zigzag-coded signed number.
  int32_t next_signed() {
    const uint32_t z = next();
    return static_cast<int32_t>(z >> 1) ^ -static_cast<int32_t>(z & 1);
  }

 private:
  const uint8_t* at_;
  const uint8_t* end_;
};

// Decoded runs, sorted by first code point.
struct NfdRun {
  uint32_t first, last, target;
};
struct LowercaseRun {
  uint32_t first, last, stride;
  int32_t delta;
};

// The `count` runs of a table, each decoded by read_run(in, &run), which
// keeps what it needs of the runs before.
template <typename Run, typename ReadRun>
std::vector<Run> decode_runs(const PackedRuns& table, ReadRun read_run) {
  std::vector<Run> runs(table.count);
  VarintReader in(table);
  for (Run& run : runs) read_run(in, &run);
  return runs;
}

// (first << 3) | class of each class run.
const std::vector<uint32_t>& class_runs() {
  static const auto runs = decode_runs<uint32_t>(kClassRuns, [first = 0u](VarintReader& in, uint32_t* run) mutable {
    const uint32_t v = in.next();
    first += v >> 3;
    *run = (first << 3) | (v & 7);
  });
  return runs;
}

const std::vector<NfdRun>& nfd_first_runs() {
  static const auto runs = decode_runs<NfdRun>(kNfdFirstRuns, [last = 0u, offset = 0](VarintReader& in, NfdRun* run) mutable {
    run->first = last + in.next();
    run->last = last = run->first + in.next();
    offset += in.next_signed();  // target - first
    run->target = run->first + offset;
  });
  return runs;
}

const std::vector<LowercaseRun>& lowercase_runs() {
  static const auto runs = decode_runs<LowercaseRun>(kLowercaseRuns, [last = 0u](VarintReader& in, LowercaseRun* run) mutable {
    run->first = last + in.next();
    const uint32_t span = in.next();
    run->last = last = run->first + (span >> 1);
    run->stride = (span & 1) + 1;
    run->delta = in.next_signed();
  });
  return runs;
}

// The run of `runs` (sorted, not overlapping) that holds cp, or null.
template <typename Run>
const Run* run_holding(const std::vector<Run>& runs, uint32_t cp) {
  auto after = std::upper_bound(runs.begin(), runs.end(), cp, [](uint32_t c, const Run& r) { return c < r.first; });
  if (after == runs.begin() || cp > (after - 1)->last) return nullptr;
  return &*(after - 1);
}

}  // namespace

CodepointClass codepoint_class(uint32_t cp) {
  if (cp > 0x10FFFF) return CodepointClass::kOther;
  const std::vector<uint32_t>& runs = class_runs();
  // The last run starting at or before cp (the first starts at 0).
  const uint32_t run = *(std::upper_bound(runs.begin(), runs.end(), (cp << 3) | 7) - 1);
  return static_cast<CodepointClass>(run & 7);
}

uint32_t nfd_first_codepoint(uint32_t cp) {
  const NfdRun* run = run_holding(nfd_first_runs(), cp);
  return run ? run->target : cp;
}

uint32_t simple_lowercase(uint32_t cp) {
  const LowercaseRun* run = run_holding(lowercase_runs(), cp);
  return run && (cp - run->first) % run->stride == 0 ? cp + run->delta : cp;
}

Utf8Char decode_utf8(const char* text, size_t remaining) {
  const auto* s = reinterpret_cast<const uint8_t*>(text);
  const uint8_t lead = s[0];
  if (lead < 0x80) return {lead, 1};
  uint32_t length = 0;
  uint32_t cp = 0;
  uint32_t min_cp = 0;  // smallest value this length may encode (no overlong forms)
  if ((lead & 0xE0) == 0xC0) {
    length = 2; cp = lead & 0x1F; min_cp = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3; cp = lead & 0x0F; min_cp = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4; cp = lead & 0x07; min_cp = 0x10000;
  } else {
    return {kInvalidCodepoint, 1};  // continuation byte or 0xF8..0xFF as lead
  }
  if (length > remaining) return {kInvalidCodepoint, 1};
  for (uint32_t i = 1; i < length; ++i) {
    if ((s[i] & 0xC0) != 0x80) return {kInvalidCodepoint, 1};
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return {kInvalidCodepoint, 1};
  }
  return {cp, length};
}

TextChars split_chars(const std::string& text) {
  TextChars chars;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8(text.data() + pos, text.size() - pos);
    chars.cp.push_back(c.cp);
    chars.cls.push_back(c.cp == kInvalidCodepoint ? CodepointClass::kOther : codepoint_class(c.cp));
    chars.offset.push_back(static_cast<uint32_t>(pos));
    pos += c.length;
  }
  chars.offset.push_back(static_cast<uint32_t>(text.size()));
  return chars;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {

// Bytes that GPT-2's alphabet keeps as their own code point.
bool gpt2_keeps_byte(uint32_t b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

// The 68 bytes GPT-2's alphabet does not keep map to U+0100 + n, in byte order.
constexpr uint32_t kMovedBytes = 68;
struct Gpt2Alphabet {
  uint32_t byte_to_cp[256];
  uint8_t moved_byte[kMovedBytes];  // U+0100 + n -> byte
  Gpt2Alphabet() {
    uint32_t n = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      if (gpt2_keeps_byte(b)) {
        byte_to_cp[b] = b;
      } else {
        moved_byte[n] = static_cast<uint8_t>(b);
        byte_to_cp[b] = 0x100 + n++;
      }
    }
  }
};

const Gpt2Alphabet& gpt2_alphabet() {
  static const Gpt2Alphabet alphabet;
  return alphabet;
}

}  // namespace

uint32_t gpt2_byte_to_codepoint(uint8_t byte) { return gpt2_alphabet().byte_to_cp[byte]; }

bool gpt2_codepoint_to_byte(uint32_t cp, uint8_t* byte) {
  if (cp < 0x100) {
    if (!gpt2_keeps_byte(cp)) return false;
    *byte = static_cast<uint8_t>(cp);
    return true;
  }
  if (cp - 0x100 >= kMovedBytes) return false;
  *byte = gpt2_alphabet().moved_byte[cp - 0x100];
  return true;
}

}  // namespace nibble
