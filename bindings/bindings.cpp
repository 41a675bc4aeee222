// Embind declarations for the JS module (dist/nibble-<flavour>.{mjs,cjs,wasm}).
// Declarations only: the logic is in src/api, the JS API in web/.
// Addresses (uintptr_t) point into the wasm heap; web/ owns those buffers.
#include <emscripten/bind.h>

#include "api/quantized_matrix.h"
#include "api/text_model.h"
#include "api/text_tokenizer.h"

using namespace emscripten;
using nibble::ApiStatus;
using nibble::QuantizedMatrix;
using nibble::TextModel;
using nibble::TextModelLoader;
using nibble::TextTokenizer;
using nibble::ResultBuffer;

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

  // Variable-length results of TextModel and TextTokenizer.
  class_<ResultBuffer>("ResultBuffer")
      .function("resultSize", &ResultBuffer::result_size)
      .function("copyResult", &ResultBuffer::copy_result)
      .function("clearResult", &ResultBuffer::clear_result);

  class_<TextModelLoader>("TextModelLoader")
      .constructor<std::string, std::string, bool, int, double, bool>()
      .function("feed", &TextModelLoader::feed)
      .function("setTokenizer", &TextModelLoader::set_tokenizer)
      .function("finish", &TextModelLoader::finish)
      .function("touchAhead", &TextModelLoader::touch_ahead)
      .function("bytesFed", &TextModelLoader::bytes_fed);

  class_<TextModel, base<ResultBuffer>>("TextModel")
      .constructor<>()
      .constructor<int>()  // threads (web/ starts threads − 1 pthread workers first)
      .function("loaded", &TextModel::loaded)
      .function("infoJson", &TextModel::info_json)
      .function("vocabSize", &TextModel::vocab_size)
      .function("contextLength", &TextModel::context_length)
      .function("bos", &TextModel::bos)
      .function("eos", &TextModel::eos)
      .function("start", &TextModel::start)
      .function("next", &TextModel::next)
      .function("lastToken", &TextModel::last_token)
      .function("stopReason", &TextModel::stop_reason)
      .function("promptTokens", &TextModel::prompt_tokens)
      .function("cachedTokens", &TextModel::cached_tokens)
      .function("generatedTokens", &TextModel::generated_tokens)
      .function("context", &TextModel::context)
      .function("logits", &TextModel::logits)
      .function("writeGguf", &TextModel::write_gguf);

  class_<TextTokenizer, base<ResultBuffer>>("TextTokenizer")
      .constructor<>()
      .constructor<const TextModel&>()  // the model's, borrowed (web/ deletes it first)
      .function("loadGguf", &TextTokenizer::load_gguf)
      .function("needsMore", &TextTokenizer::needs_more)
      .function("loaded", &TextTokenizer::loaded)
      .function("infoJson", &TextTokenizer::info_json)
      .function("tokenize", &TextTokenizer::tokenize)
      .function("detokenize", &TextTokenizer::detokenize)
      .function("piece", &TextTokenizer::piece)
      .function("tokenToPiece", &TextTokenizer::token_to_piece);

  function("heapBytesInUse", &nibble::heap_bytes_in_use);
  function("heapPeakBytes", &nibble::heap_peak_bytes);
}
