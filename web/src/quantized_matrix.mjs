// QuantizedMatrix: W[rows, cols] in a block type nibble quantizes to (QUANT_TYPES), held in the wasm
// heap by a C++ handle (src/api/quantized_matrix.h). Every method copies its
// inputs into the heap and its results out into fresh typed arrays, so no
// pointer or heap view reaches the caller. dispose() frees the C++ side; if a
// matrix is dropped without it, a FinalizationRegistry frees it eventually.
import { plainError, throwIfFailed, typeError, rangeError } from './errors.mjs';
import {
  copyIn, copyOutBytes, copyOutFloat32, currentModule, getModule, withHeapBuffers,
} from './runtime.mjs';
import {
  asBytes, checkFloat32Array, checkMatmulOptions, checkQuantizeOptions, checkShape, checkTypeName, CLIP_CODES, describe,
  PRECISION_CODES,
} from './validate.mjs';

const CONSTRUCT = Symbol('QuantizedMatrix.construct');

const leakGuard = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry((handle) => {
    if (!handle.isDeleted()) handle.delete();
  })
  : null;

export class QuantizedMatrix {
  #wasm;
  #handle; // null once disposed
  #type;
  #shape;
  #byteLength;
  #bitsPerWeight;

  // Not for users: quantize() and fromBytes() make these.
  constructor(token, wasm, handle) {
    if (token !== CONSTRUCT) {
      throw typeError('QuantizedMatrix', 'there is no public constructor; use await nibble.quantize(weights, [rows, cols]) or await nibble.fromBytes(bytes, [rows, cols], type)');
    }
    this.#wasm = wasm;
    this.#handle = handle;
    this.#type = handle.typeName();
    this.#shape = Object.freeze([handle.rows(), handle.cols()]);
    this.#byteLength = handle.byteLength();
    this.#bitsPerWeight = handle.bitsPerWeight();
    leakGuard?.register(this, handle, this);
  }

  // Same as nibble.fromBytes().
  static fromBytes(bytes, shape, type) {
    return fromBytes(bytes, shape, type);
  }

  /** A QUANT_TYPES name, e.g. 'q4_0'. */
  get type() { return this.#type; }
  /** [rows, cols]: rows = outputs (N), cols = inputs (K). Frozen. */
  get shape() { return this.#shape; }
  /** Bytes of the GGUF blocks, what toBytes() returns. */
  get byteLength() { return this.#byteLength; }
  /** The type's, e.g. 4.5 for q4_0. */
  get bitsPerWeight() { return this.#bitsPerWeight; }
  /** True after dispose(). */
  get disposed() { return this.#handle === null; }
  get [Symbol.toStringTag]() { return 'QuantizedMatrix'; }

  #live(where) {
    if (this.#handle === null) {
      throw plainError(where, 'this QuantizedMatrix was disposed; keep using it only before calling dispose()');
    }
    return this.#handle;
  }

  /** The GGUF block bytes (a copy). */
  toBytes() {
    const where = 'QuantizedMatrix.toBytes';
    const handle = this.#live(where);
    const n = this.#byteLength;
    return withHeapBuffers(this.#wasm, [n], where, ([out]) => {
      throwIfFailed(handle.toBytes(out), where);
      return copyOutBytes(this.#wasm, out, n);
    });
  }

  /** The weights the blocks stand for: Float32Array(rows · cols), row-major. */
  dequantize() {
    const where = 'QuantizedMatrix.dequantize';
    const handle = this.#live(where);
    const n = this.#shape[0] * this.#shape[1];
    return withHeapBuffers(this.#wasm, [n * 4], where, ([out]) => {
      throwIfFailed(handle.dequantize(out), where);
      return copyOutFloat32(this.#wasm, out, n);
    });
  }

  /**
   * Y[m, rows] = X[m, cols] · Wᵀ. x holds m rows of cols values (m defaults to
   * x.length / cols); options.precision 'w4a8' (default), 'w4a32' or 'w4a4'.
   * matmul(x, options) is accepted too.
   */
  matmul(x, m, options) {
    const where = 'QuantizedMatrix.matmul';
    const handle = this.#live(where);
    if (options === undefined && m !== null && typeof m === 'object') [m, options] = [undefined, m];
    checkFloat32Array(x, 'x', where);
    const [rows, cols] = this.#shape;
    const precision = checkMatmulOptions(options, where);
    if (m === undefined) {
      if (x.length === 0 || x.length % cols !== 0) {
        throw rangeError(where, `x.length is ${x.length}, not a positive multiple of cols = ${cols}: x must hold m rows of ${cols} values`);
      }
      m = x.length / cols;
    } else {
      if (typeof m !== 'number') throw typeError(where, `m must be a number (rows of x), got ${describe(m)}`);
      if (!Number.isInteger(m) || m < 1) throw rangeError(where, `m must be a positive integer (rows of x), got ${m}`);
      if (x.length !== m * cols) {
        throw rangeError(where, `x.length is ${x.length}, but m = ${m} rows of cols = ${cols} need ${m * cols}`);
      }
    }
    return withHeapBuffers(this.#wasm, [x.byteLength, m * rows * 4], where, ([xPtr, yPtr]) => {
      copyIn(this.#wasm, xPtr, x);
      throwIfFailed(handle.matmul(xPtr, m, yPtr, PRECISION_CODES[precision]), where);
      return copyOutFloat32(this.#wasm, yPtr, m * rows);
    });
  }

  /** Frees the wasm memory. Later calls to other methods throw; a second dispose() does nothing. */
  dispose() {
    if (this.#handle === null) return;
    leakGuard?.unregister(this);
    this.#handle.delete();
    this.#handle = null;
  }
}

// Runs fill(handle) on a new C++ matrix; returns the JS object or throws.
function build(wasm, where, fill) {
  const handle = new wasm.QuantizedMatrix();
  try {
    throwIfFailed(fill(handle), where);
    return new QuantizedMatrix(CONSTRUCT, wasm, handle);
  } catch (e) {
    handle.delete();
    throw e;
  }
}

/**
 * W[rows, cols] (row-major Float32Array) -> QuantizedMatrix.
 * options: type, one of QUANT_TYPES (default the first); clip 'none' (default,
 * round-to-nearest as llama.cpp) | 'mse' (clipping search); importance:
 * Float32Array(cols) weighting each input column (the clipping search, or
 * llama.cpp's importance-weighted rules; see index.d.ts).
 */
export async function quantize(weights, shape, options) {
  const where = 'quantize';
  checkFloat32Array(weights, 'weights', where);
  const { rows, cols } = checkShape(shape, where);
  if (weights.length !== rows * cols) {
    throw rangeError(where, `weights.length is ${weights.length}, but shape [${rows}, ${cols}] needs rows × cols = ${rows * cols}`);
  }
  const { type, clip, importance } = checkQuantizeOptions(options, cols, where);
  const wasm = currentModule() ?? await getModule();
  const sizes = importance ? [weights.byteLength, importance.byteLength] : [weights.byteLength];
  return withHeapBuffers(wasm, sizes, where, ([wPtr, iPtr]) => {
    copyIn(wasm, wPtr, weights);
    if (importance) copyIn(wasm, iPtr, importance);
    // iPtr = 0 tells C++ there is no importance.
    return build(wasm, where, (h) => h.quantize(wPtr, rows, cols, type, CLIP_CODES[clip], iPtr ?? 0));
  });
}

/** GGUF block bytes of W[rows, cols] in `type` -> QuantizedMatrix (the bytes are copied). */
export async function fromBytes(bytes, shape, type) {
  const where = 'fromBytes';
  const view = asBytes(bytes, 'bytes', where);
  const { rows, cols } = checkShape(shape, where);
  checkTypeName(type, 'type', where);
  if (view.byteLength === 0) throw rangeError(where, 'bytes is empty');
  const wasm = currentModule() ?? await getModule();
  return withHeapBuffers(wasm, [view.byteLength], where, ([ptr]) => {
    copyIn(wasm, ptr, view);
    return build(wasm, where, (h) => h.loadBlocks(ptr, view.byteLength, rows, cols, type));
  });
}
