// Model: a language model held in the wasm heap by a C++ handle
// (src/api/text_model.h), and loadModel(), which streams a file into it.
//
// Loading feeds the file to the C++ loader in slices through one small
// staging buffer, so the heap never holds a second copy of the weights.
// Generation runs one token per step and yields to the event loop between
// steps, so abort signals and the page keep working. No pointer or heap view
// reaches the caller; dispose() frees everything (a FinalizationRegistry
// frees a model that was dropped without it, eventually).
import { plainError, rangeError, throwIfFailed, typeError } from './errors.mjs';
import { generationResult, macrotask, makeStats, now, StopFilter } from './generation.mjs';
import {
  copyIn, copyOutBytes, copyOutFloat32, currentModule, currentPlatform, getModule, init, reserveThreads, takeResult,
  withHeapBuffers,
} from './runtime.mjs';
import { openSource, readAll, throwIfAborted } from './sources.mjs';
import { modelTokenizer, PIECE, RELEASE, templateSpecials } from './tokenizer.mjs';
import { loadCache, loadChat, loadTools, loadWorkerClient } from './lazy_parts.mjs';
import {
  checkChatOptions, checkGenerateOptions, checkIds, checkLoadOptions, checkLogitsOptions, CLIP_CODES, deepFreeze, REMEDY_CODES, describe,
  PRECISION_CODES,
} from './validate.mjs';

const CONSTRUCT = Symbol('Model.construct');
// Not for users: the calls collectImportance() (importance.mjs) makes.
export const IMPORTANCE = Symbol('Model.importance');
// Not for users: the calls quantizeCalibrated() (calibrated.mjs) makes.
export const CALIBRATE = Symbol('Model.calibrate');
// Not for users: the calls lowRankRemedy() (importance.mjs) makes.
export const LOW_RANK = Symbol('Model.lowRank');
const STOP_REASONS = ['none', 'eos', 'max_tokens', 'context'];
const DEFAULT_CONTEXT_CAP = 2048; // KV-cache positions unless options.context asks for more
const YIELD_EVERY_BYTES = 1 << 20; // loading yields to the event loop this often
// Memory the model will fill, touched per step while the loader waits for
// the file's next bytes (TextModelLoader.touchAhead): 64 pages, well under a
// millisecond.
const TOUCH_STEP_BYTES = 1 << 18;

const leakGuard = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry((handle) => {
    if (!handle.isDeleted()) handle.delete();
  })
  : null;

// ---------------------------------------------------------------------------
// Model

export class Model {
  #wasm;
  #handle; // null once disposed
  #tokenizer; // its Tokenizer, freed before the handle
  #info;
  #context;
  #running = false; // a generation is between start and its end
  // The quantize-only tools on this model (collectImportance(),
  // quantizeCalibrated()): a Promise of { handle, wasm, twin } while they are
  // made, then #toolsReady. handle: a ModelTools (src/api/model_tools.h) on
  // the model, in `wasm`; where the model's own module leaves the tools out
  // (the SIMD and relaxed-SIMD builds), on `twin`, a copy of the model in
  // the tools module (lazy_parts.mjs loadTools) loaded from toGguf()'s file
  // once and freed with the model.
  #tools = null;
  #toolsReady = null;

  // Not for users: loadModel() makes these.
  constructor(token, wasm, handle, context, info) {
    if (token !== CONSTRUCT) throw typeError('Model', 'there is no public constructor; use await nibble.loadModel(source)');
    this.#wasm = wasm;
    this.#handle = handle;
    this.#context = context;
    this.#info = deepFreeze({ ...info, context });
    this.#tokenizer = modelTokenizer(wasm, handle, this);
    leakGuard?.register(this, handle, this);
  }

  /** What the file holds and how it was loaded (frozen; see index.d.ts). */
  get info() { return this.#info; }
  /** True after dispose(). */
  get disposed() { return this.#handle === null; }
  /** Its tokenizer (a Tokenizer; freed by dispose()). */
  get tokenizer() { return this.#tokenizer; }
  get [Symbol.toStringTag]() { return 'Model'; }

  #live(where) {
    if (this.#handle === null) throw plainError(where, 'this Model was disposed; use it only before calling dispose()');
    return this.#handle;
  }

  // The result buffer of the last call, copied out (then freed in C++).
  #takeResult(where, read) {
    return takeResult(this.#wasm, this.#handle, where, read);
  }

  /** Token ids of text: model.tokenizer.encode (see Tokenizer). */
  tokenize(text, options) {
    this.#live('Model.tokenize');
    return this.#tokenizer.encode(text, options, 'Model.tokenize');
  }

  /** The text of token ids: model.tokenizer.decode. */
  detokenize(ids) {
    this.#live('Model.detokenize');
    return this.#tokenizer.decode(ids, 'Model.detokenize');
  }

  /**
   * Generates text after prompt (a string, or token ids used as they are).
   * Returns an async iterable of text pieces with a `stats` promise; see
   * index.d.ts for the options.
   */
  generate(prompt, options) {
    const where = 'Model.generate';
    this.#live(where);
    const { settings, stop, addBos, parseSpecial } = checkGenerateOptions(options, where);
    let ids;
    if (typeof prompt === 'string') {
      ids = Int32Array.from(this.#tokenizer.encode(prompt, { addBos: addBos < 0 ? undefined : addBos === 1, addEos: false, parseSpecial }, where));
    } else if (Array.isArray(prompt) || ArrayBuffer.isView(prompt)) {
      ids = checkIds(prompt, 'prompt', this.#info.vocabSize, where);
    } else {
      throw typeError(where, `prompt must be a string or an array of token ids, got ${describe(prompt)}`);
    }
    this.#checkPrompt(ids, where);
    return this.#generation(async () => ids, settings, stop, where);
  }

  /**
   * Continues a conversation ([{ role, content }]) in the model's prompt
   * format: generate() for the chat template's rendering of it, ending at
   * the model's end of turn. See index.d.ts.
   */
  chat(messages, options) {
    const where = 'Model.chat';
    this.#live(where);
    const { settings, stop, ...chat } = checkChatOptions(options, where);
    const tokenizer = this.#tokenizer;
    const prompt = async () => {
      const { chatPrompt } = await loadChat(where);
      return Int32Array.from(chatPrompt(tokenizer, templateSpecials(tokenizer), messages, chat, this.#context, where));
    };
    return this.#generation(prompt, settings, stop, where);
  }

  #checkPrompt(ids, where) {
    if (ids.length === 0) {
      throw rangeError(where, 'the prompt has no tokens: give some text, or keep addBos so it starts with BOS');
    }
    if (ids.length > this.#context) {
      throw rangeError(where, `the prompt has ${ids.length} tokens but the context holds ${this.#context}; shorten it or load with a larger options.context`);
    }
  }

  // The Generation of a prompt that prompt() gives (token ids, maybe later).
  #generation(prompt, settings, stop, where) {
    const settle = { started: false };
    const stats = new Promise((resolve, reject) => Object.assign(settle, { resolve, reject }));
    const run = this.#run(prompt, settings, stop, settle, where);
    // Stopped before it began: nothing ran.
    const neverStarted = () => {
      if (!settle.started) {
        settle.started = true;
        settle.resolve(makeStats({ promptTokens: 0, cachedTokens: 0, generatedTokens: 0, promptMs: 0, generateMs: 0, totalMs: 0, ttftMs: null, stopReason: 'abort', seed: settings.seed }));
      }
    };
    return generationResult(run, stats, neverStarted);
  }

  async *#run(prompt, s, stop, settle, where) {
    const called = now(); // time to first token counts from here: tokenizing and the prompt included
    settle.started = true;
    if (this.#running) {
      const error = plainError(where, 'another generation is still running on this model; finish it or stop it (break, or its AbortSignal) first');
      settle.reject(error);
      throw error;
    }
    this.#running = true;
    this.#current = null;
    let finished = false;
    try {
      const ids = await prompt();
      this.#checkPrompt(ids, where);
      const stats = yield* this.#steps(ids, s, stop, called, where);
      finished = true;
      settle.resolve(stats);
      return stats;
    } catch (e) {
      finished = true;
      settle.reject(e);
      throw e;
    } finally {
      this.#running = false;
      // The consumer stopped early (break / return()): that ends it as aborted.
      if (!finished) settle.resolve(this.#stopStats('abort'));
    }
  }

  #current = null; // counters of the generation that is running, for #stopStats

  #stopStats(stopReason) {
    // (null: the prompt was never run)
    const c = this.#current ?? { t0: now(), promptTokens: 0, cached: 0, generated: 0, promptMs: 0, generateMs: 0, ttftMs: null };
    const end = now();
    return makeStats({
      promptTokens: c.promptTokens,
      cachedTokens: c.cached,
      generatedTokens: c.generated,
      promptMs: c.promptMs,
      generateMs: c.generateMs,
      totalMs: end - c.t0,
      ttftMs: c.ttftMs,
      stopReason,
      seed: c.seed,
    });
  }

  async *#steps(ids, s, stop, called, where) {
    const c = this.#current = { t0: now(), promptTokens: ids.length, cached: 0, generated: 0, promptMs: 0, generateMs: 0, ttftMs: null, seed: s.seed };
    if (s.signal?.aborted) return this.#stopStats('abort');
    let handle = this.#live(where);
    withHeapBuffers(this.#wasm, [ids.byteLength], where, ([ptr]) => {
      copyIn(this.#wasm, ptr, ids);
      throwIfFailed(handle.start(ptr, ids.length, s.maxTokens, s.temperature, s.topK, s.topP, s.seed,
        PRECISION_CODES[s.precision], this.#context), where);
    });
    c.cached = handle.cachedTokens();
    c.promptMs = now() - c.t0;
    const decoder = new TextDecoder();
    const filter = new StopFilter(stop);
    let previous = ids[ids.length - 1];
    let reason;
    for (;;) {
      await macrotask(); // let timers, abort signals and the page run
      if (s.signal?.aborted) {
        reason = 'abort';
        break;
      }
      handle = this.#live(where); // dispose() may have come in between
      const t = now();
      const text = withHeapBuffers(this.#wasm, [], where, () => {
        throwIfFailed(handle.next(), where);
        const token = handle.lastToken();
        if (token < 0) {
          reason = STOP_REASONS[handle.stopReason()];
          return '';
        }
        const bytes = this.#tokenizer[PIECE](token, previous, where);
        previous = token;
        return decoder.decode(bytes, { stream: true });
      });
      c.generated = handle.generatedTokens();
      const tokenEnd = now();
      c.generateMs += tokenEnd - t;
      if (c.generated > 0 && c.ttftMs === null) c.ttftMs = tokenEnd - called;
      if (reason) break;
      s.onToken?.(previous);
      const { emit, stopped } = filter.push(text);
      if (emit) yield emit;
      if (stopped) {
        reason = 'stop';
        break;
      }
    }
    if (reason !== 'stop' && reason !== 'abort') {
      const rest = filter.push(decoder.decode()); // bytes of a cut-off character become U+FFFD
      const tail = rest.emit + (rest.stopped ? '' : filter.flush());
      if (rest.stopped) reason = 'stop';
      if (tail) yield tail;
    }
    return this.#stopStats(reason);
  }

  /** Generates and collects the whole text: Promise<{ text, stats }>. */
  async complete(prompt, options) {
    let text = '';
    const run = this.generate(prompt, options);
    for await (const piece of run) text += piece;
    return { text, stats: await run.stats };
  }

  /** The model as a standard GGUF v3 file (its weights as loaded; the tokenizer embedded). */
  toGguf() {
    const where = 'Model.toGguf';
    const handle = this.#live(where);
    withHeapBuffers(this.#wasm, [], where, () => throwIfFailed(handle.writeGguf(), where));
    return this.#takeResult(where, (ptr, n) => copyOutBytes(this.#wasm, ptr, n));
  }

  /**
   * Logits of every position of token ids run from an empty KV cache of
   * their own (a generation's cache is left as it was): a Float32Array of
   * ids.length × vocabSize, row-major by position. See index.d.ts.
   */
  logits(ids, options) {
    const where = 'Model.logits';
    const handle = this.#live(where);
    const { precision, batch } = checkLogitsOptions(options, where);
    const list = checkIds(ids, 'ids', this.#info.vocabSize, where);
    if (list.length === 0) throw rangeError(where, 'ids is empty; give at least one token id');
    if (list.length > this.#context) {
      throw rangeError(where, `ids has ${list.length} tokens but the context holds ${this.#context}; shorten it or load with a larger options.context`);
    }
    withHeapBuffers(this.#wasm, [list.byteLength], where, ([ptr]) => {
      copyIn(this.#wasm, ptr, list);
      throwIfFailed(handle.logits(ptr, list.length, PRECISION_CODES[precision], batch ?? 0), where);
    });
    return this.#takeResult(where, (ptr, n) => copyOutFloat32(this.#wasm, ptr, n / 4));
  }

  // Makes the tools (#tools) on first use; a failed attempt may be retried.
  #openTools(where) {
    this.#live(where);
    this.#tools ??= this.#makeTools(where).catch((e) => {
      this.#tools = null;
      throw e;
    });
    return this.#tools;
  }

  async #makeTools(where) {
    const wasm = await loadTools(this.#wasm, where);
    let twin = null;
    if (wasm !== this.#wasm) {
      this.#live(where); // not disposed while the module loaded
      const file = this.toGguf();
      // Its weights as they are: f32 stays f32; the quantized types keep theirs.
      const weights = this.#info.weightType === 'f32' ? 'f32' : undefined;
      twin = await loadModelInto(wasm, file, { weights, context: this.#context });
    }
    if (this.disposed) twin?.dispose();
    const handle = new wasm.ModelTools((twin ?? this).#live(where));
    leakGuard?.register(this, handle, this);
    this.#toolsReady = { handle, wasm, twin };
    return this.#toolsReady;
  }

  // The tools once open() has made them.
  #openedTools(where) {
    this.#live(where);
    if (!this.#toolsReady) throw plainError(where, 'the tools are not open; await open() first');
    return this.#toolsReady;
  }

  // One calibration window (token ids) through the tools' `method` (ptr, n).
  #toolsWindow(where, method, ids) {
    const { handle, wasm } = this.#openedTools(where);
    withHeapBuffers(wasm, [ids.byteLength], where, ([ptr]) => {
      copyIn(wasm, ptr, ids);
      throwIfFailed(handle[method](ptr, ids.length), where);
    });
  }

  // The bytes of a file the tools write: write(handle) -> its ApiStatus.
  #toolsFile(where, write) {
    const { handle, wasm } = this.#openedTools(where);
    withHeapBuffers(wasm, [], where, () => throwIfFailed(write(handle), where));
    return takeResult(wasm, handle, where, (ptr, n) => copyOutBytes(wasm, ptr, n));
  }

  // collectImportance()'s access: open() makes the tools, then window(ids)
  // adds one calibration window's Σx² to the sums the tools keep,
  // file(dataset, chunkSize) returns them as an imatrix GGUF file, clear()
  // starts over.
  get [IMPORTANCE]() {
    const where = 'collectImportance';
    this.#live(where);
    return {
      open: () => this.#openTools(where),
      window: (ids) => this.#toolsWindow(where, 'collectImportance', ids),
      file: (dataset, chunkSize) => this.#toolsFile(where, (handle) => handle.writeImportance(dataset, chunkSize)),
      clear: () => this.#toolsReady?.handle.clearImportance(),
    };
  }

  // quantizeCalibrated()'s access: open() makes the tools, then begin(type),
  // window(ids), step() -> the fraction done, file() -> the quantized GGUF
  // file (and the end), clear().
  get [CALIBRATE]() {
    const where = 'quantizeCalibrated';
    this.#live(where);
    return {
      open: () => this.#openTools(where),
      begin: (type) => throwIfFailed(this.#openedTools(where).handle.calibrateBegin(type), where),
      window: (ids) => this.#toolsWindow(where, 'calibrateWindow', ids),
      step: () => {
        const { handle } = this.#openedTools(where);
        throwIfFailed(handle.calibrateStep(), where);
        return handle.calibrateProgress();
      },
      file: () => this.#toolsFile(where, (handle) => handle.calibrateWrite()),
      clear: () => this.#toolsReady?.handle.calibrateClear(),
    };
  }

  // lowRankRemedy()'s access: open(), window(ids), file(rank) -> the GGUF
  // file with the bases (and the end), clear().
  get [LOW_RANK]() {
    const where = 'lowRankRemedy';
    this.#live(where);
    return {
      open: () => this.#openTools(where),
      window: (ids) => this.#toolsWindow(where, 'lowRankWindow', ids),
      file: (rank) => this.#toolsFile(where, (handle) => handle.lowRankWrite(rank)),
      clear: () => this.#toolsReady?.handle.lowRankClear(),
    };
  }

  /** Frees the wasm memory. Later calls to other methods throw; a second dispose() does nothing. */
  dispose() {
    if (this.#handle === null) return;
    leakGuard?.unregister(this);
    this.#tokenizer[RELEASE](); // it borrows the model's handle
    if (this.#toolsReady) {
      this.#toolsReady.handle.delete(); // it borrows the model's (or the twin's) handle
      this.#toolsReady.twin?.dispose();
      this.#toolsReady = null;
    }
    this.#tools = null;
    this.#handle.delete();
    this.#handle = null;
  }
}

// ---------------------------------------------------------------------------
// loadModel

async function wasmFor(opts) {
  if (opts.simd !== undefined || opts.wasmPath !== undefined || opts.threads !== undefined) {
    const init_ = {};
    if (opts.simd !== undefined) init_.simd = opts.simd;
    if (opts.wasmPath !== undefined) init_.wasmPath = opts.wasmPath;
    if (opts.threads !== undefined) init_.threads = opts.threads; // the first load picks the build
    await init(init_);
    return currentModule();
  }
  return currentModule() ?? getModule();
}

// Staging slice: about 1/256 of the file, 4 KiB .. 256 KiB, so that it adds
// little to the heap's peak during a load, and so that the loader's passes
// over it (the scale check, the packing) find it in the CPU's L2 cache.
function stagingBytes(size) {
  return Math.min(1 << 18, Math.max(4096, Math.ceil(size / 256)));
}

/**
 * Loads a GGUF (LLaMA architecture) or llama2.c model from a URL, a file
 * path (Node), an ArrayBuffer / typed array, or a Blob / File.
 */
export function loadModel(source, options) {
  return loadModelWith(wasmFor, source, options);
}

// loadModel() into `wasm` (a loaded module): the tools' copy of a model.
function loadModelInto(wasm, source, options) {
  return loadModelWith(async () => wasm, source, options);
}

// loadModel() with wasmOf(opts) -> Promise of the module to load into.
async function loadModelWith(wasmOf, source, options) {
  const where = 'loadModel';
  const opts = checkLoadOptions(source, options, where);
  const { onProgress, signal, weights, mix, pure, clip, context, fileTensors, importance, remedy } = opts;
  throwIfAborted(signal, where);
  if (opts.worker) {
    const { loadModelInWorker } = await loadWorkerClient(where);
    return loadModelInWorker(source, options ?? {}, {
      defaultDir: currentPlatform().defaultDir(),
      applyChatTemplate: async (tokenizer, messages, o, at) => (await loadChat(at)).renderChatTemplate(messages, o, templateSpecials(tokenizer), at),
    });
  }
  // Quantizing with calibration data is one of the tools (lazy_parts.mjs
  // loadTools): such a model loads into the module that has them.
  const quantizeTools = importance !== undefined || remedy !== 'none';
  const wasm = quantizeTools ? await loadTools(await wasmOf(opts), where) : await wasmOf(opts);
  throwIfAborted(signal, where);
  const io = { where, platform: currentPlatform(), signal };
  const tokenizer = opts.tokenizer === undefined ? null : await readAll(opts.tokenizer, { ...io, name: 'tokenizer' });
  throwIfAborted(signal, where);
  const open = opts.cache ? (await loadCache(where)).openCachedSource : openSource;
  const opened = await open(source, { ...io, name: 'model' });

  let last = -1;
  const progress = (status, loaded, total) => {
    const fraction = status === 'ready' ? 1 : total ? Math.min(loaded / total, 1) : 0;
    last = Math.max(last, fraction); // never backwards
    onProgress?.({ status, loaded, total, fraction: last });
  };
  const chunks = opened.size === null ? bufferAll(opened, progress, signal, where) : opened.chunks;

  let loader = null, handle = null, staging = 0;
  try {
    let size = opened.size;
    if (size === null) size = (await chunks.next()).value; // bufferAll yields the size first
    if (size === 0) throw plainError(where, `the model file is empty (${opened.label})`);
    loader = new wasm.TextModelLoader(weights, mix, pure, CLIP_CODES[clip], size, fileTensors);
    const fail = (status) => throwIfFailed(status, where);
    if (importance) {
      withHeapBuffers(wasm, [Math.max(importance.byteLength, 1)], where, ([ptr]) => {
        copyIn(wasm, ptr, importance);
        fail(withLabel(wasm.loaderSetImportance(loader, ptr, importance.byteLength), 'options.importance'));
      });
    }
    if (remedy !== 'none') fail(withLabel(wasm.loaderSetRemedy(loader, REMEDY_CODES[remedy]), 'options.remedy'));
    if (tokenizer) {
      // Given first: a GGUF file brings its own tokenizer and ignores this one.
      withHeapBuffers(wasm, [Math.max(tokenizer.byteLength, 1)], where, ([ptr]) => {
        copyIn(wasm, ptr, tokenizer);
        fail(loader.setTokenizer(ptr, tokenizer.byteLength));
      });
    }
    const slice = stagingBytes(size);
    staging = wasm._malloc(slice);
    if (staging === 0) throw plainError(where, `out of wasm memory allocating ${slice} bytes`);
    let loaded = 0, sinceYield = 0;
    const touchAhead = () => withHeapBuffers(wasm, [], where, () => loader.touchAhead(TOUCH_STEP_BYTES));
    for (;;) {
      const next = chunks.next();
      if (await whileWaiting(next, touchAhead)) sinceYield = 0;
      const { value: chunk, done } = await next;
      if (done) break;
      for (let at = 0; at < chunk.byteLength; at += slice) {
        throwIfAborted(signal, where);
        const part = chunk.subarray(at, Math.min(at + slice, chunk.byteLength));
        wasm.HEAPU8.set(part, staging); // HEAPU8 read anew: the heap may have grown
        withHeapBuffers(wasm, [], where, () => fail(withLabel(loader.feed(staging, part.byteLength), opened.label)));
        loaded += part.byteLength;
        sinceYield += part.byteLength;
        progress(opened.status, loaded, size);
        if (sinceYield >= YIELD_EVERY_BYTES) {
          sinceYield = 0;
          await macrotask();
        }
      }
    }
    throwIfAborted(signal, where);
    wasm._free(staging);
    staging = 0;
    // The thread pool's workers are started first; nothing may await in between.
    const threads = await reserveThreads(opts.threads, where);
    handle = threads > 1 ? new wasm.TextModel(threads) : new wasm.TextModel();
    const status = withHeapBuffers(wasm, [], where, () => loader.finish(handle));
    if (status.kind !== 0 && !tokenizer && /tokenizer file/.test(status.message)) {
      status.message += "; pass it as loadModel(source, { tokenizer: <URL, path or bytes of tokenizer.bin> })";
    }
    fail(withLabel(status, opened.label));
    const info = JSON.parse(handle.infoJson());
    const { ropeThetaBits, rmsEpsBits, ...config } = info.config;
    info.config = { ...config, ropeTheta: float32(ropeThetaBits), rmsEps: float32(rmsEpsBits) };
    info.threads = threads; // 1 unless the threads build runs (init() says why not)
    if (context !== undefined && context > info.contextLength) {
      throw rangeError(where, `options.context is ${context} but the model's context length is ${info.contextLength}`);
    }
    const model = new Model(CONSTRUCT, wasm, handle, context ?? Math.min(info.contextLength, DEFAULT_CONTEXT_CAP), info);
    handle = null; // the model owns it now
    progress('ready', size, size);
    return model;
  } finally {
    if (staging) wasm._free(staging);
    loader?.delete();
    handle?.delete();
    await chunks.return?.();
    await opened.close();
  }
}

// A float's bits (info_json's floats) as the number printf's %.7g gives.
function float32(bits) {
  return Number(new Float32Array(Uint32Array.of(bits).buffer)[0].toPrecision(7));
}

// Runs work() once, then again in steps for as long as `pending` is
// unsettled and work() says there is more, yielding to the event loop in
// between; whether it yielded. (Work that is due anyway, done while the next
// bytes of a download are on their way.)
async function whileWaiting(pending, work) {
  let settled = false;
  const settle = () => {
    settled = true;
  };
  pending.then(settle, settle);
  if (!work()) return false;
  do await macrotask();
  while (!settled && work());
  return true;
}

function withLabel(status, label) {
  if (status.kind !== 0 && label) status.message += ` (${label})`;
  return status;
}

// For a download of unknown size: gathers it in JS memory (not the wasm
// heap), yields its size, then the chunks.
async function* bufferAll(opened, progress, signal, where) {
  const parts = [];
  let total = 0;
  for await (const chunk of opened.chunks) {
    throwIfAborted(signal, where);
    parts.push(chunk.slice());
    total += chunk.byteLength;
    progress(opened.status, total, null);
  }
  yield total;
  for (const part of parts) yield part;
}

