// The fuzz targets: one function per parser, each taking arbitrary bytes.
// libFuzzer drives them (fuzz_main.cpp, one executable per target, built by
// tests/fuzz/CMakeLists.txt); tests/cpp/fuzz_replay_test.cpp replays the
// committed seed corpus and every crash input through the same functions in
// the ordinary test builds. A target returns on any input, true when the
// input was accepted (the model loaded, the vocabulary built, the blocks
// were read), false when the parsers refused it with a message; it aborts
// (fuzz_check) only when a promise of the code under test is broken.
// Input layouts (what make_corpus writes) are described at each target.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nibble {
namespace fuzz {

// A GGUF file, parsed whole and by half, every metadata value read back.
bool gguf(const uint8_t* data, size_t size);
// byte 0: options (chunk size, weights type, generate); the rest: a model
// file (GGUF or llama2.c) fed to ModelLoader in chunks; a loaded model
// tokenizes, and generates two tokens if asked to.
bool gguf_loader(const uint8_t* data, size_t size);
// byte 0: options (chunk size, generate); bytes 1-4: u32 LE length L of the checkpoint; then L
// bytes of llama2.c checkpoint, then a llama2.c tokenizer.bin.
bool llama2c(const uint8_t* data, size_t size);
// bytes 0-1: u16 LE length L of the text; then L bytes of text; then a GGUF
// file whose tokenizer.ggml.* metadata is the vocabulary.
bool tokenizer(const uint8_t* data, size_t size);
// byte 0: tensor type (index into the table), byte 1: options (rows, clip);
// the rest: blocks of that type.
bool dequantize(const uint8_t* data, size_t size);

// Aborts with `what` on stderr when `ok` is false: a broken promise, which
// libFuzzer reports as a crash and the replay test as a failure.
void fuzz_check(bool ok, const char* what);

}  // namespace fuzz
}  // namespace nibble
