// Types of nibble's JavaScript API (the same for import, require and the
// script-tag global `nibble`).
//
// Functions that may need the wasm module (init, quantize, fromBytes,
// loadModel) are async and load it on first use; methods of the objects they
// return are synchronous, except Model.generate / Model.complete, which yield
// to the event loop between tokens.

/** INT4 block types: q4_0 (4.5 bits/weight), q4_1 (5 bits/weight). */
export type QuantType = 'q4_0' | 'q4_1';
/** 'none': round-to-nearest (llama.cpp's rules); 'mse': clipping search per block. */
export type ClipMode = 'none' | 'mse';
/** 'w4a8': activations quantized to int8 per block, integer dot products (fast); 'w4a32': f32 activations (reference). */
export type Precision = 'w4a8' | 'w4a32';

export interface InitOptions {
  /**
   * Which wasm build. 'auto' (default): relaxed SIMD where the engine has it
   * (faster GEMVs: Chrome >= 114, Firefox >= 120, Node >= 22, Node 20 with
   * --experimental-wasm-relaxed-simd), else SIMD, else scalar. 'relaxed',
   * true (SIMD without relaxed SIMD) and false (scalar) force one.
   * Results are the same in every SIMD build.
   */
  simd?: 'auto' | 'relaxed' | boolean;
  /**
   * Folder (a URL, or a file path in Node) holding the nibble-*.wasm files
   * (nibble-simd.wasm, ...). Default: the folder of nibble's JS files.
   * Anything with an href (a URL object) is taken as its href.
   */
  wasmPath?: string | { readonly href: string };
  /**
   * Threads for models: a count (1..64) or 'auto' (the logical cores, at
   * most 8). Default 1. More than 1 loads a SIMD + pthreads build
   * (nibble-simd-relaxed-threads.* where the engine has relaxed SIMD, else
   * nibble-simd-threads.*) where memory can be shared: in Node always, in
   * browsers on cross-origin isolated pages (Cross-Origin-Opener-Policy:
   * same-origin, Cross-Origin-Embedder-Policy: require-corp). Otherwise the
   * single-thread build loads and console.warn says why, once.
   */
  threads?: number | 'auto';
}

export interface RuntimeInfo {
  /** True when a SIMD build was loaded. */
  simd: boolean;
  /** Models' default thread count: 1 unless a threads flavour loaded. */
  threads: number;
  /** The build: 'simd-relaxed-threads', 'simd-threads', 'simd-relaxed', 'simd' or 'scalar'. */
  flavour: 'simd-relaxed-threads' | 'simd-threads' | 'simd-relaxed' | 'simd' | 'scalar';
  /** Why threads were asked for but the single-thread build loaded, else null. */
  threadsUnavailable: string | null;
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
/** True when this engine runs relaxed WebAssembly SIMD's int8 dot correctly (what init({ simd: 'auto' }) prefers). */
export declare function relaxedSimdSupported(): boolean;

// ---------------------------------------------------------------------------
// Language models

/** How a model's matrices are held in memory: INT4 blocks (default q4_0) or f32. */
export type WeightType = 'q4_0' | 'q4_1' | 'f32';

/** Anything with the parts of a Blob / File that loadModel reads. */
export interface BlobLike {
  readonly size: number;
  readonly name?: string;
  stream(): unknown;
}

/** Anything with the parts of an AbortSignal that nibble reads. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: any;
}

/**
 * Where a file comes from: a URL (string or URL object; fetched), a file path
 * or file: URL (Node; read in slices), bytes (ArrayBuffer or any typed array),
 * or a Blob / File.
 */
export type ModelSource = string | { readonly href: string } | ArrayBufferLike | ArrayBufferView | BlobLike;

export interface LoadProgress {
  /** 'download' while a URL streams in (and is loaded as it arrives), 'load' while other sources are read, 'ready' once at the end. */
  status: 'download' | 'load' | 'ready';
  /** Bytes read so far. */
  loaded: number;
  /** The file's size; null while a download's size is unknown (compressed transfer). */
  total: number | null;
  /** 0 .. 1; never goes backwards; 1 at 'ready'. */
  fraction: number;
}

export interface LoadModelOptions {
  /** Called as bytes arrive and once with status 'ready'. */
  onProgress?: (progress: LoadProgress) => void;
  /** Cancels the load: loadModel rejects with signal.reason (an AbortError DOMException by default) and frees what it took. */
  signal?: AbortSignalLike;
  /** Default 'q4_0'. F32/F16/Q8_0 matrices are quantized on load; INT4 matrices in the file keep their type unless 'f32'. */
  weights?: WeightType;
  /** Clipping for matrices quantized on load. Default 'none'. */
  clip?: ClipMode;
  /** llama2.c checkpoints only: their tokenizer.bin (GGUF files embed theirs; this is then ignored). */
  tokenizer?: ModelSource;
  /** KV-cache positions for generation. Default: the model's context length, at most 2048. */
  context?: number;
  /** As init({ simd }); only when the wasm module is not loaded yet (or with the same value). */
  simd?: 'auto' | 'relaxed' | boolean;
  /** As init({ wasmPath }). */
  wasmPath?: string | { readonly href: string };
  /** Also record each tensor's type in the file (info.tensors[i].fileType). Default false. */
  fileTensors?: boolean;
  /**
   * Threads this model's matmuls split over (see InitOptions.threads).
   * Default: the module's (init's threads). The first nibble call loads the
   * build: pass threads to it (or here, if loadModel is first).
   */
  threads?: number | 'auto';
  /**
   * Run the engine in a dedicated Web Worker (nibble-worker.mjs, served next
   * to the other dist/ files); the page never loads the wasm. loadModel then
   * resolves to a WorkerModel. Default false.
   */
  worker?: boolean;
  /**
   * URL sources only: keep the file in the Cache API (caches.open('nibble-models'))
   * so a reload does not download it again (progress status 'load').
   * Does nothing where there is no Cache API (Node, file://). Default false.
   */
  cache?: boolean;
}

/** A matrix held in a wider type than asked for, and why. */
export interface TensorFallback {
  /** GGUF tensor name, e.g. 'blk.0.ffn_down.weight'. */
  tensor: string;
  /** What it is held as, e.g. 'f32'. */
  type: string;
  /** e.g. 'row length 172 is not a multiple of 32'. */
  reason: string;
}

export interface ModelConfig {
  dim: number;
  hiddenDim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ropeDim: number;
  ropeTheta: number;
  rmsEps: number;
  vocabSize: number;
  contextLength: number;
}

export interface ModelTensor {
  name: string;
  /** GGUF order: the row length first. */
  shape: readonly number[];
  /** As held in memory: 'q4_0', 'q4_1' or 'f32'. */
  type: string;
  /** As stored in the file ('f32', 'f16', 'q8_0', 'q4_0', 'q4_1'); with loadModel({ fileTensors: true }) only. */
  fileType?: string;
}

export interface ModelInfo {
  format: 'gguf' | 'llama2c';
  /** 'llama'. */
  architecture: string;
  /** general.name, or ''. */
  name: string;
  /** The matrices' type in the file ('f32', 'q4_0', ..., or 'mixed'). */
  fileWeightType: string;
  /** What they are held as ('q4_0', 'q4_1', 'f32', or 'mixed'); fallbacks are not counted. */
  weightType: string;
  fallbacks: readonly TensorFallback[];
  /** Weights in all tensors. */
  parameters: number;
  /** parameters · 4: the size as f32. */
  fp32Bytes: number;
  /** Bytes of weights held in memory. */
  loadedBytes: number;
  fileBytes: number;
  /** The output matrix is the token embedding. */
  tiedOutput: boolean;
  /** 'llama' (SentencePiece-style BPE) or 'gpt2' (byte-level BPE). */
  tokenizer: 'llama' | 'gpt2';
  vocabSize: number;
  /** Positions the model was trained for. */
  contextLength: number;
  /** KV-cache positions used for generation (LoadModelOptions.context). */
  context: number;
  /** Threads its matmuls use (LoadModelOptions.threads; 1 without the threads build). */
  threads: number;
  /** Token ids; -1 when the vocabulary has none. */
  bos: number;
  eos: number;
  config: ModelConfig;
  tensors: readonly ModelTensor[];
}

/** 'eos': the model ended the text; 'max_tokens'; 'stop': a stop string; 'context': the context is full; 'abort': the signal fired, or the consumer stopped iterating. */
export type StopReason = 'eos' | 'max_tokens' | 'stop' | 'context' | 'abort';

export interface GenerationStats {
  /** Tokens of the prompt, BOS included. */
  promptTokens: number;
  generatedTokens: number;
  /** Time to run the prompt through the model. */
  promptMs: number;
  /** Time spent producing tokens (not counting the time the consumer kept the loop waiting). */
  generateMs: number;
  /** From the start to the end, everything included. */
  totalMs: number;
  /** generatedTokens / generateMs. */
  tokensPerSecond: number;
  /** promptTokens / promptMs. */
  promptTokensPerSecond: number;
  stopReason: StopReason;
  /** The seed used (the one given, or the random one chosen): pass it back to repeat the run. */
  seed: number;
}

export interface GenerateOptions {
  /** Tokens to generate at most. Default 256. */
  maxTokens?: number;
  /** 0 = greedy (always the most likely token). Default 0.8. */
  temperature?: number;
  /** Sample only from the k most likely tokens; 0 = no limit. Default 40. */
  topK?: number;
  /** ... and from the fewest whose probability adds up to topP (0 < topP ≤ 1). Default 0.95. */
  topP?: number;
  /** An integer 0 .. 2^53 − 1; equal seeds give equal text. Default: random (reported in stats.seed). */
  seed?: number;
  /** End the text before the first of these strings (which is not emitted). */
  stop?: readonly string[];
  /** Stops the generation between two tokens; it then ends normally with stopReason 'abort'. */
  signal?: AbortSignalLike;
  /** Start a string prompt with the BOS token. Default true. */
  addBos?: boolean;
  /** Default 'w4a8' (int8 activations, fastest); 'w4a32' for f32 activations. F32 weights ignore it. */
  precision?: Precision;
  /** Called with each generated token id as it is produced. */
  onToken?: (id: number) => void;
}

/**
 * What generate() returns: iterate it (for await) for text pieces — each a
 * string, UTF-8 complete — and read `stats` once it ends. Breaking out of the
 * loop stops the generation (stats.stopReason 'abort'). Only one generation
 * runs on a model at a time.
 */
export interface Generation extends AsyncGenerator<string, GenerationStats, undefined> {
  /** Resolves when the generation ends; rejects with its error if it fails. */
  readonly stats: Promise<GenerationStats>;
}

/** A language model in wasm memory until dispose(). */
export declare class Model {
  /** Not constructible: use loadModel(). */
  private constructor();
  /** What the file holds and how it was loaded (frozen). Stays readable after dispose(). */
  readonly info: ModelInfo;
  /** True after dispose(). */
  readonly disposed: boolean;
  /** Token ids of text; addBos (default true) puts BOS first. */
  tokenize(text: string, options?: { addBos?: boolean }): number[];
  /** The text of token ids (control tokens such as BOS add nothing). */
  detokenize(ids: readonly number[] | Int32Array | Uint32Array): string;
  /** Continues prompt (text, or token ids used as they are). Throws at once on bad options. */
  generate(prompt: string | readonly number[] | Int32Array, options?: GenerateOptions): Generation;
  /** generate(), collected: the whole text and the statistics. */
  complete(prompt: string | readonly number[] | Int32Array, options?: GenerateOptions): Promise<{ text: string; stats: GenerationStats }>;
  /** The model as a standard GGUF v3 file, its matrices as held (what `nibble quantize` writes). */
  toGguf(): Uint8Array;
  /** Frees the wasm memory (and stops a running generation); other methods throw afterwards. Safe to call twice. */
  dispose(): void;
}

/**
 * Loads a language model: GGUF v3 with general.architecture = llama (tensors
 * F32, F16, Q8_0, Q4_0, Q4_1) or a llama2.c checkpoint (with options.tokenizer).
 * The file streams into wasm memory; it is never held there twice.
 */
export declare function loadModel(source: ModelSource, options: LoadModelOptions & { worker: true }): Promise<WorkerModel>;
export declare function loadModel(source: ModelSource, options?: LoadModelOptions): Promise<Model>;

/** Which wasm build runs a WorkerModel's engine. */
export interface WorkerRuntime {
  readonly simd: boolean;
  readonly threads: number;
  readonly worker: true;
}

/**
 * A model whose engine runs in a Web Worker (loadModel with worker: true).
 * Same API as Model, but the calls that return data cross to the worker and
 * return Promises; a bad generate() option is reported by the first next().
 */
export interface WorkerModel {
  readonly info: ModelInfo;
  readonly disposed: boolean;
  readonly runtime: WorkerRuntime;
  tokenize(text: string, options?: { addBos?: boolean }): Promise<number[]>;
  detokenize(ids: readonly number[] | Int32Array | Uint32Array): Promise<string>;
  generate(prompt: string | readonly number[] | Int32Array, options?: GenerateOptions): Generation;
  complete(prompt: string | readonly number[] | Int32Array, options?: GenerateOptions): Promise<{ text: string; stats: GenerationStats }>;
  toGguf(): Promise<Uint8Array>;
  /** Stops the worker and frees everything. */
  dispose(): void;
}

/** The package version. */
export declare const version: string;

/** The values the string options take, e.g. for a command line's choices (frozen). */
export declare const optionChoices: {
  readonly clip: readonly ClipMode[];
  readonly precision: readonly Precision[];
};

/** @internal For nibble's own tests; may change at any time. */
export declare const _debug: {
  heapBytesInUse(): number;
  wasmMemoryBytes(): number;
  heapPeakBytes(): number;
  modelLogits(model: Model, ids: readonly number[] | Int32Array, options?: { precision?: Precision }): Float32Array;
};
