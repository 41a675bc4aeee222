// Embind declarations of the quantize-only tools (src/api/model_tools.h:
// importance collection, calibrated quantization, loading with importance
// data or W4A4's remedies), in
// the tools module (dist/nibble-<flavour>-tools.{mjs,cjs,wasm}: bindings.cpp
// plus this file) and in the builds that carry everything (scalar, threads);
// not in the SIMD and relaxed-SIMD modules a page loads first.
// Declarations only: the logic is in src/api, the JS API in web/.
#include <emscripten/bind.h>

#include "api/model_tools.h"

using namespace emscripten;
using nibble::ModelTools;
using nibble::ResultBuffer;
using nibble::TextModel;
using nibble::TextModelLoader;

EMSCRIPTEN_BINDINGS(nibble_tools) {
  class_<ModelTools, base<ResultBuffer>>("ModelTools")
      .constructor<TextModel&>()  // the model's, borrowed (web/ deletes it first)
      .function("collectImportance", &ModelTools::collect_importance)
      .function("writeImportance", &ModelTools::write_importance)
      .function("clearImportance", &ModelTools::clear_importance)
      .function("calibrateBegin", &ModelTools::calibrate_begin)
      .function("calibrateWindow", &ModelTools::calibrate_window)
      .function("calibrateStep", &ModelTools::calibrate_step)
      .function("calibrateProgress", &ModelTools::calibrate_progress)
      .function("calibrateWrite", &ModelTools::calibrate_write)
      .function("calibrateClear", &ModelTools::calibrate_clear)
      .function("lowRankWindow", &ModelTools::low_rank_window)
      .function("lowRankWrite", &ModelTools::low_rank_write)
      .function("lowRankClear", &ModelTools::low_rank_clear);

  // TextModelLoader's options of the tools (its class is bindings.cpp's).
  function("loaderSetImportance", &nibble::loader_set_importance);
  function("loaderSetRemedy", &nibble::loader_set_remedy);
}
