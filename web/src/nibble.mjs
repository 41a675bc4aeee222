// The public JS API, the same in every build (ESM, CommonJS, script tag).
//
// Functions that may need the wasm module are async and load it on first use
// (init() only chooses options or loads early); methods of the objects they
// return are synchronous. Later additions (loadModel) follow the same rule.
export { init } from './runtime.mjs';
export { quantize, fromBytes, QuantizedMatrix } from './quantized_matrix.mjs';
export { errorStats } from './error_stats.mjs';
export { simdSupported } from './loader.mjs';
import { debug } from './runtime.mjs';

/** The package version. */
export const version = __NIBBLE_VERSION__;

/** For nibble's own tests only; may change at any time. */
export const _debug = debug;
