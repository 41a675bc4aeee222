// Embind declarations for the JS module (dist/nibble-<flavour>.{mjs,cjs,wasm}).
// Declarations only: the logic is in src/api, the JS API in web/.
// Addresses (uintptr_t) point into the wasm heap; web/ owns those buffers.
#include <emscripten/bind.h>

#include "api/quantized_matrix.h"

using namespace emscripten;
using nibble::ApiStatus;
using nibble::QuantizedMatrix;

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

  function("heapBytesInUse", &nibble::heap_bytes_in_use);
}
