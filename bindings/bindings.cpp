// Embind declarations for the JS module (dist/nibble-<flavour>.{mjs,cjs,wasm}).
// Declarations only: the logic is in src/api, the JS API in web/.
// Addresses (uintptr_t) point into the wasm heap; web/ owns those buffers.
#include <emscripten/bind.h>

#include "api/quantized_matrix.h"
#include "api/text_model.h"

using namespace emscripten;
using nibble::ApiStatus;
using nibble::QuantizedMatrix;
using nibble::TextModel;
using nibble::TextModelLoader;

EMSCRIPTEN_BINDINGS(nibble) {
  value_object<ApiStatus>("ApiStatus")
      .field("kind", &ApiStatus::kind)
      .field("message", &ApiStatus::message);

  class_<QuantizedMatrix>("QuantizedMatrix")
      .constructor<>()
      .function("quantize", &QuantizedMatrix::quantize)
      .function("loadBlocks", &QuantizedMatrix::load_blocks)
      .function("dequantize", &QuantizedMatrix::dequantize)
      .function("matmul", &QuantizedMatrix::matmul)
      .function("toBytes", &QuantizedMatrix::to_bytes)
      .function("loaded", &QuantizedMatrix::loaded)
      .function("rows", &QuantizedMatrix::rows)
      .function("cols", &QuantizedMatrix::cols)
      .function("byteLength", &QuantizedMatrix::byte_length)
      .function("bitsPerWeight", &QuantizedMatrix::bits_per_weight)
      .function("typeName", &QuantizedMatrix::type_name);

  class_<TextModelLoader>("TextModelLoader")
      .constructor<std::string, std::string, int, double, bool>()
      .function("feed", &TextModelLoader::feed)
      .function("setTokenizer", &TextModelLoader::set_tokenizer)
      .function("setImportance", &TextModelLoader::set_importance)
      .function("finish", &TextModelLoader::finish)
      .function("bytesFed", &TextModelLoader::bytes_fed);

  class_<TextModel>("TextModel")
      .constructor<>()
      .constructor<int>()  // threads (web/ starts threads − 1 pthread workers first)
      .function("loaded", &TextModel::loaded)
      .function("infoJson", &TextModel::info_json)
      .function("vocabSize", &TextModel::vocab_size)
      .function("contextLength", &TextModel::context_length)
      .function("bos", &TextModel::bos)
      .function("eos", &TextModel::eos)
      .function("tokenize", &TextModel::tokenize)
      .function("detokenize", &TextModel::detokenize)
      .function("piece", &TextModel::piece)
      .function("start", &TextModel::start)
      .function("next", &TextModel::next)
      .function("lastToken", &TextModel::last_token)
      .function("stopReason", &TextModel::stop_reason)
      .function("promptTokens", &TextModel::prompt_tokens)
      .function("generatedTokens", &TextModel::generated_tokens)
      .function("context", &TextModel::context)
      .function("logits", &TextModel::logits)
      .function("writeGguf", &TextModel::write_gguf)
      .function("collectImportance", &TextModel::collect_importance)
      .function("writeImportance", &TextModel::write_importance)
      .function("clearImportance", &TextModel::clear_importance)
      .function("resultSize", &TextModel::result_size)
      .function("copyResult", &TextModel::copy_result)
      .function("clearResult", &TextModel::clear_result);

  function("heapBytesInUse", &nibble::heap_bytes_in_use);
  function("heapPeakBytes", &nibble::heap_peak_bytes);
}
