// Replays the fuzz targets' inputs (tests/fuzz) through the same functions
// libFuzzer drives, in every test build (the ASan + UBSan one included):
//   corpus/<target>/*       the seed corpus (make_corpus): each must be
//                           accepted, except files named "rejected-*";
//   regressions/<target>/*  inputs that crashed a target (or a planted bug,
//                           as a fuzzer found it): each must run to its end
//                           (accepted or refused).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_targets.h"
#include "support/fixture_util.h"

namespace nibble {
namespace {

using Target = bool (*)(const uint8_t*, size_t);
struct NamedTarget {
  const char* name;
  Target run;
};
const NamedTarget kTargets[] = {
    {"gguf", fuzz::gguf},
    {"gguf_loader", fuzz::gguf_loader},
    {"llama2c", fuzz::llama2c},
    {"tokenizer", fuzz::tokenizer},
    {"dequantize", fuzz::dequantize},
};

// The files of tests/fuzz/<folder>/<target>, sorted by name (relative paths).
std::vector<std::string> Inputs(const std::string& folder, const std::string& target) {
  std::vector<std::string> out;
  const std::string relative = "tests/fuzz/" + folder + "/" + target;
  const std::filesystem::path dir = std::filesystem::path(NIBBLE_SOURCE_DIR) / relative;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().filename().string()[0] != '.')
      out.push_back(relative + "/" + entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FuzzReplay, SeedCorpusIsAccepted) {
  for (const NamedTarget& target : kTargets) {
    const std::vector<std::string> inputs = Inputs("corpus", target.name);
    EXPECT_GE(inputs.size(), 2u) << "seed corpus of " << target.name << " (run tools/fuzz.sh --corpus)";
    for (const std::string& path : inputs) {
      const std::vector<uint8_t> bytes = read_fixture(path);
      const bool rejected = path.find("/rejected-") != std::string::npos;
      EXPECT_EQ(target.run(bytes.data(), bytes.size()), !rejected) << path;
    }
  }
}

TEST(FuzzReplay, CrashInputsRunToTheirEnd) {
  int replayed = 0;
  for (const NamedTarget& target : kTargets) {
    for (const std::string& path : Inputs("regressions", target.name)) {
      SCOPED_TRACE(path);
      const std::vector<uint8_t> bytes = read_fixture(path);
      target.run(bytes.data(), bytes.size());  // a crash or abort fails the test
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0) << "no file under tests/fuzz/regressions";
}

}  // namespace
}  // namespace nibble
