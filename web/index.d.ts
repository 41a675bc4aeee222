// Types of nibble's JavaScript API (the same for import, require and the
// script-tag global `nibble`).
//
// Functions that may need the wasm module (init, quantize, fromBytes) are
// async and load it on first use; methods of the objects they return are
// synchronous.

/** INT4 block types: q4_0 (4.5 bits/weight), q4_1 (5 bits/weight). */
export type QuantType = 'q4_0' | 'q4_1';
/** 'none': round-to-nearest (llama.cpp's rules); 'mse': clipping search per block. */
export type ClipMode = 'none' | 'mse';
/** 'w4a8': activations quantized to int8 per block, integer dot products (fast); 'w4a32': f32 activations (reference). */
export type Precision = 'w4a8' | 'w4a32';

export interface InitOptions {
  /** Which wasm build: 'auto' (default) detects WebAssembly SIMD; true / false force one. */
  simd?: 'auto' | boolean;
  /**
   * Folder (a URL, or a file path in Node) holding nibble-simd.wasm and
   * nibble-scalar.wasm. Default: the folder of nibble's JS files.
   * Anything with an href (a URL object) is taken as its href.
   */
  wasmPath?: string | { readonly href: string };
}

export interface RuntimeInfo {
  /** True when the SIMD build was loaded. */
  simd: boolean;
  /** Where the .wasm was loaded from. */
  wasmUrl: string;
}

export interface QuantizeOptions {
  /** Default 'q4_0'. */
  type?: QuantType;
  /** Default 'none'. */
  clip?: ClipMode;
  /** One weight per column (cols values, finite, >= 0) for the 'mse' clipping search, e.g. mean squared activations. */
  importance?: Float32Array;
}

export interface MatmulOptions {
  /** Default 'w4a8'. */
  precision?: Precision;
}

export interface ErrorStats {
  /** sqrt(Σ(x − y)² / n) */
  rmse: number;
  /** max |x − y| */
  maxAbsError: number;
  /** 10·log10(Σx² / Σ(x − y)²); Infinity when y equals x. */
  sqnrDb: number;
  /** Σxy / (|x|·|y|); 1 when both are all zeros. */
  cosine: number;
}

/** A weight matrix W[rows, cols] in an INT4 block type, held in wasm memory until dispose(). */
export declare class QuantizedMatrix {
  /** Not constructible: use quantize() or fromBytes(). */
  private constructor();
  /** Same as fromBytes(). */
  static fromBytes(bytes: ArrayBufferLike | ArrayBufferView, shape: readonly [rows: number, cols: number], type: QuantType): Promise<QuantizedMatrix>;
  readonly type: QuantType;
  /** [rows, cols]: rows = outputs (N), cols = inputs (K). */
  readonly shape: readonly [rows: number, cols: number];
  /** Size of the GGUF block bytes. */
  readonly byteLength: number;
  readonly bitsPerWeight: number;
  /** True after dispose(). */
  readonly disposed: boolean;
  /** A copy of the GGUF block bytes (rows of blocks, as in a GGUF tensor). */
  toBytes(): Uint8Array;
  /** The weights the blocks stand for, row-major: Float32Array(rows · cols). */
  dequantize(): Float32Array;
  /**
   * Y[m, rows] = X[m, cols] · Wᵀ. x holds m rows of cols values, row-major;
   * m defaults to x.length / cols. Returns Float32Array(m · rows).
   */
  matmul(x: Float32Array, m?: number, options?: MatmulOptions): Float32Array;
  matmul(x: Float32Array, options: MatmulOptions): Float32Array;
  /** Frees the wasm memory; other methods throw afterwards. Safe to call twice. */
  dispose(): void;
}

/** Loads the wasm module now, with options. Optional: the first call that needs it loads it with defaults. */
export declare function init(options?: InitOptions): Promise<RuntimeInfo>;

/** Quantizes W[rows, cols] (row-major, rows · cols finite values; cols a multiple of 32). */
export declare function quantize(weights: Float32Array, shape: readonly [rows: number, cols: number], options?: QuantizeOptions): Promise<QuantizedMatrix>;

/** Wraps existing GGUF block bytes of W[rows, cols] (they are copied). */
export declare function fromBytes(bytes: ArrayBufferLike | ArrayBufferView, shape: readonly [rows: number, cols: number], type: QuantType): Promise<QuantizedMatrix>;

/** How far approx is from original: a QuantizedMatrix of the same size, or the same number of values. */
export declare function errorStats(original: Float32Array | Float64Array | readonly number[], approx: QuantizedMatrix | Float32Array | Float64Array | readonly number[]): ErrorStats;

/** True when this engine runs WebAssembly SIMD (what init({ simd: 'auto' }) checks). */
export declare function simdSupported(): boolean;

/** The package version. */
export declare const version: string;

/** @internal For nibble's own tests; may change at any time. */
export declare const _debug: {
  heapBytesInUse(): number;
  wasmMemoryBytes(): number;
};
