#!/usr/bin/env python3
"""Generates src/tokenizer/unicode_tables.cpp: the code point classes the
tokenizers need (\\p{L} letter, \\p{N} number, \\p{P} punctuation, \\s
white space for the pre-tokenizers' regexes; \\p{M} mark, \\p{S} symbol and
control for WordPiece; everything else "other") as runs of one class, and
for WordPiece the first code point of each canonical decomposition (NFD) and
the simple lowercase mapping, as runs; each table a compact byte stream that
src/tokenizer/unicode.cpp decodes on first use.

  python3 tools/gen_unicode_tables.py           # rewrite the file
  python3 tools/gen_unicode_tables.py --check   # exit 1 if the file is stale

The output depends only on this script and on the Unicode version of Python's
unicodedata module (written into the file); --check with a Python whose
Unicode version differs reports that instead of a diff.
"""
import os
import sys
import unicodedata

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "tokenizer",
                   "unicode_tables.cpp")

# Values of CodepointClass in src/tokenizer/unicode.h.
OTHER, LETTER, NUMBER, WHITESPACE, PUNCTUATION, MARK, SYMBOL, CONTROL = 0, 1, 2, 3, 4, 5, 6, 7
# \\p{C} without unassigned code points (Cn): what llama.cpp's WordPiece drops.
CONTROL_CATEGORIES = ("Cc", "Cf", "Co", "Cs")
MAX_CODEPOINT = 0x10FFFF

# Unicode's White_Space property (PropList.txt). unicodedata does not expose
# it; str.isspace() is close but also includes U+001C..U+001F, which regex
# engines' \s (Rust regex, Python regex module) do not match.
WHITE_SPACE = set(list(range(0x09, 0x0E)) + [0x20, 0x85, 0xA0, 0x1680] +
                  list(range(0x2000, 0x200B)) + [0x2028, 0x2029, 0x202F, 0x205F, 0x3000])


def codepoint_class(cp):
    if cp in WHITE_SPACE:
        return WHITESPACE
    category = unicodedata.category(chr(cp))
    if category in CONTROL_CATEGORIES:
        return CONTROL
    return {"L": LETTER, "N": NUMBER, "P": PUNCTUATION, "M": MARK, "S": SYMBOL}.get(category[0], OTHER)


def range_starts():
    """[(first code point, class)] where each run of one class begins."""
    starts = []
    previous = None
    for cp in range(MAX_CODEPOINT + 1):
        c = codepoint_class(cp)
        if c != previous:
            starts.append((cp, c))
            previous = c
    return starts


def nfd_first_runs():
    """[(first, last, target)]: each code point of first..last has a canonical
    decomposition starting with `target` (llama.cpp keeps only that one of
    its NFD, and WordPiece then drops the marks)."""
    runs = []
    for cp in range(MAX_CODEPOINT + 1):
        target = ord(unicodedata.normalize("NFD", chr(cp))[0])
        if target == cp:
            continue
        if runs and runs[-1][1] == cp - 1 and runs[-1][2] == target:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp, target])
    return runs


def simple_lowercase(cp):
    """UnicodeData.txt's simple lowercase mapping. str.lower() applies the full
    mapping, which differs only where it gives several code points (U+0130
    -> "i\\u0307"), and there the simple mapping is the first of them."""
    return ord(chr(cp).lower()[0])


def lowercase_runs():
    """[(first, last, stride, delta)]: the code points first, first + stride,
    ..., last lowercase to themselves + delta; the others map to themselves.
    Stride 2 covers the alternating upper/lower pairs of Latin, Greek and
    Cyrillic blocks."""
    runs = []
    for cp in range(MAX_CODEPOINT + 1):
        delta = simple_lowercase(cp) - cp
        if delta == 0:
            continue
        if runs:
            first, last, stride, run_delta = runs[-1]
            step = cp - last
            if run_delta == delta and step in (1, 2) and (first == last or step == stride):
                runs[-1] = [first, cp, step, delta]
                continue
        runs.append([cp, cp, 1, delta])
    return runs


# The tables are streams of LEB128 varints (7 bits a byte, low bits first,
# high bit set on all but the last byte of a number); differences from the
# previous run keep most numbers below 128, so most take one byte. Signed
# numbers are zigzag-coded (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...).
# src/tokenizer/unicode.cpp decodes them once, on first use.
def varint(value, out):
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def zigzag(value):
    return value << 1 if value >= 0 else ((-value) << 1) - 1


def packed_classes(starts):
    """Per run: (first - previous run's first) << 3 | class."""
    out, previous = [], 0
    for cp, c in starts:
        varint(((cp - previous) << 3) | c, out)
        previous = cp
    return out


def packed_nfd_first(runs):
    """Per run: first - previous run's last, last - first, and the zigzag of
    (target - first) - the previous run's (target - first): neighbouring
    runs (a letter with its accents) often share the offset."""
    out, previous_last, previous_offset = [], 0, 0
    for first, last, target in runs:
        varint(first - previous_last, out)
        varint(last - first, out)
        varint(zigzag((target - first) - previous_offset), out)
        previous_last, previous_offset = last, target - first
    return out


def packed_lowercase(runs):
    """Per run: first - previous run's last, (last - first) << 1 | (stride - 1),
    and the zigzag of delta."""
    out, previous_last = [], 0
    for first, last, stride, delta in runs:
        varint(first - previous_last, out)
        varint(((last - first) << 1) | (stride - 1), out)
        varint(zigzag(delta), out)
        previous_last = last
    return out


def checksum(starts, nfd, lower):
    """A 64-bit FNV-1a-style hash (each value xored in whole, not byte by
    byte) of the class, NFD first code point and lowercase of every code
    point 0..U+10FFFF, in that order: tests/cpp/tokenizer_unicode_test.cpp
    recomputes it from the decoded tables, which checks every lookup."""
    classes = [0] * (MAX_CODEPOINT + 1)
    for i, (cp, c) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else MAX_CODEPOINT + 1
        classes[cp:end] = [c] * (end - cp)
    nfd_map = {}
    for first, last, target in nfd:
        for cp in range(first, last + 1):
            nfd_map[cp] = target
    lower_map = {}
    for first, last, stride, delta in lower:
        for cp in range(first, last + 1, stride):
            lower_map[cp] = cp + delta
    h = 0xCBF29CE484222325
    for cp in range(MAX_CODEPOINT + 1):
        for value in (classes[cp], nfd_map.get(cp, cp), lower_map.get(cp, cp)):
            h = ((h ^ value) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def rows(values, per_line):
    lines, row = [], []
    for v in values:
        row.append(v)
        if len(row) == per_line:
            lines.append("    " + " ".join(row))
            row = []
    if row:
        lines.append("    " + " ".join(row))
    return lines


def byte_table(name, comment, data, count):
    lines = [""] + ["// " + line for line in comment] + [
        "const uint8_t k%sBytes[%d] = {" % (name, len(data))]
    lines += rows(["0x%02x," % b for b in data], 12)
    lines += ["};", "const PackedRuns k%s = {k%sBytes, sizeof(k%sBytes), %d};" % (name, name, name, count)]
    return lines


def render():
    # Sanity: the hard-coded White_Space set matches isspace() minus U+001C..1F.
    derived = {cp for cp in range(MAX_CODEPOINT + 1) if chr(cp).isspace()} - set(range(0x1C, 0x20))
    assert derived == WHITE_SPACE, sorted(derived ^ WHITE_SPACE)
    starts = range_starts()
    nfd = nfd_first_runs()
    lower = lowercase_runs()
    lines = [
        "// GENERATED by tools/gen_unicode_tables.py from Python's unicodedata",
        "// (Unicode %s). Do not edit; rerun the script (--check tests freshness)." % unicodedata.unidata_version,
        "#include \"tokenizer/unicode_tables.h\"",
        "",
        "namespace nibble {",
        "",
        "const char kUnicodeTablesVersion[] = \"%s\";" % unicodedata.unidata_version,
        "const uint64_t kUnicodeTablesChecksum = 0x%016xull;" % checksum(starts, nfd, lower),
    ]
    lines += byte_table("ClassRuns", [
        "Runs of one class, each from its first code point up to the next run's:",
        "varint((first - previous first) << 3 | class). Classes: 0 other,",
        "1 letter (\\p{L}), 2 number (\\p{N}), 3 white space (White_Space),",
        "4 punctuation (\\p{P}), 5 mark (\\p{M}), 6 symbol (\\p{S}), 7 control",
        "(Cc, Cf, Co, Cs)."], packed_classes(starts), len(starts))
    lines += byte_table("NfdFirstRuns", [
        "first..last have a canonical decomposition that starts with target:",
        "varint(first - previous last), varint(last - first),",
        "varint(zigzag((target - first) - previous (target - first)))."], packed_nfd_first(nfd), len(nfd))
    lines += byte_table("LowercaseRuns", [
        "first, first + stride, ..., last lowercase to themselves + delta:",
        "varint(first - previous last), varint((last - first) << 1 | (stride - 1)),",
        "varint(zigzag(delta))."], packed_lowercase(lower), len(lower))
    lines += ["", "}  // namespace nibble", ""]
    return "\n".join(lines)


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        try:
            with open(OUT, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = ""
        if current != text:
            marker = "(Unicode %s)" % unicodedata.unidata_version
            if current and marker not in current:
                print("unicode_tables.cpp was generated from another Unicode version than this "
                      "Python's (%s); regenerate with the project's Python" % unicodedata.unidata_version)
            else:
                print("src/tokenizer/unicode_tables.cpp is stale: run python3 tools/gen_unicode_tables.py")
            return 1
        print("src/tokenizer/unicode_tables.cpp is fresh")
        return 0
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
