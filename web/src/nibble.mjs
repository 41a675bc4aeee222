// The public JS API, the same in every build (ESM, CommonJS, script tag).
//
// Functions that may need the wasm module are async and load it on first use
// (init() only chooses options or loads early); methods of the objects they
// return are synchronous. loadModel follows the same rule; Model.generate
// returns an async iterator because it yields to the event loop per token.
// _debug: for nibble's own tests only; may change at any time.
export { init, debug as _debug } from './runtime.mjs';
export { quantize, fromBytes, QuantizedMatrix } from './quantized_matrix.mjs';
export { errorStats } from './error_stats.mjs';
export { relaxedSimdSupported, simdSupported } from './wasm_module.mjs';
export { loadModel, Model } from './model.mjs';
export { loadTokenizer, Tokenizer } from './tokenizer.mjs';
export { evaluate, collectImportance, quantizeCalibrated, lowRankRemedy } from './quality.mjs';
export { optionChoices } from './validate.mjs';
export { quantMixes, tensorTypes } from './tensor_types.mjs';

/** The package version. */
export const version = __NIBBLE_VERSION__;
