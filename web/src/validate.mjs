// The argument and option checks of the whole API, and the code tables of
// its string options. They run before anything touches the wasm heap, so bad
// input never reaches C++ as a bad pointer. Typed arrays are recognised by
// their tag, not instanceof, so arrays made in another realm (an iframe, a
// worker, a test sandbox) are accepted too.
import { rangeError, typeError } from './errors.mjs';
import { QUANT_MIXES, QUANT_TYPES, WEIGHT_TYPES } from './tensor_types.mjs';

const MAX_INT32 = 2 ** 31 - 1;
// Entries of a shape go to C++ as uint32; 2^31 keeps byte counts sane too.
const MAX_DIMENSION = MAX_INT32;
const MAX_THREADS = 64;

// ---------------------------------------------------------------------------
// Code tables: option value -> the integer the C++ API (src/api) takes.

export const CLIP_CODES = Object.freeze({ none: 0, mse: 1 });
export const PRECISION_CODES = Object.freeze({ w4a8: 0, w4a32: 1, w4a4: 2 });
// W4A4's remedies folded into the weights on load (bits: 1 rotate, 2 smooth).
export const REMEDY_CODES = Object.freeze({ none: 0, rotate: 1, smooth: 2, 'smooth+rotate': 3 });

// What the string options accept, for the package's users (the CLI's choices).
export const optionChoices = Object.freeze({
  clip: Object.freeze(Object.keys(CLIP_CODES)),
  precision: Object.freeze(Object.keys(PRECISION_CODES)),
  remedy: Object.freeze(Object.keys(REMEDY_CODES)),
});

// ---------------------------------------------------------------------------
// Values

export function tagOf(value) {
  return Object.prototype.toString.call(value).slice(8, -1);
}

// "a Float64Array", "an Array", "null", "the number 3" ... for messages.
export function describe(value) {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value !== 'object' && typeof value !== 'function') return `a ${typeof value}`;
  const tag = tagOf(value);
  return /^[AEIOU]/.test(tag) ? `an ${tag}` : `a ${tag}`;
}

function isFloat32Array(value) {
  return ArrayBuffer.isView(value) && tagOf(value) === 'Float32Array';
}

export function checkFloat32Array(value, name, where) {
  if (!isFloat32Array(value)) {
    const hint = Array.isArray(value) || ArrayBuffer.isView(value) ? `; convert it with new Float32Array(${name})` : '';
    throw typeError(where, `${name} must be a Float32Array, got ${describe(value)}${hint}`);
  }
}

// [rows, cols] -> { rows, cols }, both integers in 1 .. 2^31 - 1.
export function checkShape(shape, where) {
  if (!Array.isArray(shape) || shape.length !== 2) {
    throw typeError(where, `shape must be an array [rows, cols], got ${describe(shape)}`);
  }
  const names = ['rows', 'cols'];
  shape.forEach((value, i) => {
    if (typeof value !== 'number') {
      throw typeError(where, `shape[${i}] (${names[i]}) must be a number, got ${describe(value)}`);
    }
    if (!Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) {
      throw rangeError(where, `shape[${i}] (${names[i]}) must be an integer from 1 to ${MAX_DIMENSION}, got ${value}`);
    }
  });
  return { rows: shape[0], cols: shape[1] };
}

// An options argument: undefined or a plain object whose keys are all known.
function checkOptions(options, known, where) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw typeError(where, `options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw typeError(where, `unknown option '${key}'; the options are ${known.map((k) => `'${k}'`).join(', ')}`);
    }
  }
  return options;
}

// 'a' or 'b' or 'c'.
function quotedList(choices) {
  return choices.map((c) => `'${c}'`).join(' or ');
}

// One of `choices` (strings), or `fallback` when undefined.
function checkChoice(value, name, choices, fallback, where) {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') {
    throw typeError(where, `${name} must be a string (${quotedList(choices)}), got ${describe(value)}`);
  }
  if (!choices.includes(value)) {
    throw rangeError(where, `${name} must be ${quotedList(choices)}, got '${value}'`);
  }
  return value;
}

// 'w4a8' (the default), 'w4a32' or 'w4a4'.
export function checkPrecision(value, name, where) {
  return checkChoice(value, name, Object.keys(PRECISION_CODES), 'w4a8', where);
}

// An INT4 type's name (quantize's options.type, fromBytes' type); C++ says
// whether it knows it.
export function checkTypeName(value, name, where) {
  if (typeof value !== 'string') {
    throw typeError(where, `${name} must be a string such as ${quotedList(QUANT_TYPES)}, got ${describe(value)}`);
  }
  return value;
}

function checkInteger(value, name, min, max, fallback, where) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(where, `${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw rangeError(where, `${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

// A number for which ok() holds (`range` says which, in the message).
function checkNumber(value, name, ok, range, fallback, where) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(where, `${name} must be a number, got ${describe(value)}`);
  if (!ok(value)) throw rangeError(where, `${name} must be ${range}, got ${value}`);
  return value;
}

function checkBoolean(value, name, fallback, where) {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw typeError(where, `${name} must be true or false, got ${describe(value)}`);
  return value;
}

// A callback, or undefined.
function checkFunction(value, name, where) {
  if (value !== undefined && typeof value !== 'function') {
    throw typeError(where, `${name} must be a function, got ${describe(value)}`);
  }
  return value;
}

// Whether a value can serve as an AbortSignal (one from another realm too).
export function isAbortSignal(value) {
  return value !== null && typeof value === 'object' && typeof value.aborted === 'boolean';
}

function checkSignal(signal, where) {
  if (signal === undefined) return undefined;
  if (!isAbortSignal(signal)) throw typeError(where, `options.signal must be an AbortSignal, got ${describe(signal)}`);
  return signal;
}

// Token ids: an array or typed array of integers in 0 .. vocab - 1 -> Int32Array.
export function checkIds(ids, name, vocab, where) {
  const isList = Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView));
  if (!isList) throw typeError(where, `${name} must be an array of token ids, got ${describe(ids)}`);
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = Number(ids[i]);
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw rangeError(where, `${name}[${i}] = ${ids[i]} is not a token id (0 .. ${vocab - 1})`);
    }
    out[i] = id;
  }
  return out;
}

// A Uint8Array over the bytes of an ArrayBuffer or view, or null.
function bytesOf(value) {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  const tag = tagOf(value);
  if (tag === 'ArrayBuffer' || tag === 'SharedArrayBuffer') return new Uint8Array(value);
  return null;
}

// An ArrayBuffer or any ArrayBufferView -> a Uint8Array over the same bytes.
export function asBytes(value, name, where) {
  const bytes = bytesOf(value);
  if (bytes) return bytes;
  throw typeError(where, `${name} must be a Uint8Array or an ArrayBuffer, got ${describe(value)}`);
}

function isBlob(value) {
  const tag = tagOf(value);
  return (tag === 'Blob' || tag === 'File') && typeof value.stream === 'function';
}

// The kind of a source of bytes (a model, a tokenizer): { bytes } | { blob }
// | { text } (a URL or a path); anything else is a TypeError naming the source.
export function checkSource(source, name, where) {
  const bytes = bytesOf(source);
  if (bytes) return { bytes };
  if (isBlob(source)) return { blob: source };
  let text;
  if (typeof source === 'string') text = source;
  else if (source !== null && typeof source === 'object' && typeof source.href === 'string') text = source.href;
  else {
    throw typeError(where, `the ${name} must be a URL, a file path (Node), an ArrayBuffer, a Uint8Array or a Blob/File, got ${describe(source)}`);
  }
  if (text === '') throw typeError(where, `the ${name} is an empty string; give a URL or a file path`);
  return { text };
}

// ---------------------------------------------------------------------------
// The options of each API call, checked in a fixed order: with several bad
// options, the error names the first.

// options.threads: undefined (one thread), 'auto', or an integer 1..64.
export function checkThreads(threads, where) {
  if (threads === undefined || threads === 'auto') return threads;
  if (typeof threads !== 'number') {
    throw typeError(where, `options.threads must be 'auto' or a number of threads, got ${describe(threads)}`);
  }
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw rangeError(where, `options.threads must be 'auto' or an integer from 1 to ${MAX_THREADS}, got ${threads}`);
  }
  return threads;
}

// options.wasmPath: a folder as a string or anything with an href -> its text.
function checkWasmPath(wasmPath, where) {
  if (wasmPath === undefined) return undefined;
  let text;
  if (typeof wasmPath === 'string') text = wasmPath;
  else if (wasmPath !== null && typeof wasmPath === 'object' && typeof wasmPath.href === 'string') text = wasmPath.href;
  else throw typeError(where, `options.wasmPath must be a string or a URL, got ${describe(wasmPath)}`);
  if (/\.wasm([?#].*)?$/.test(text)) {
    throw typeError(where, `options.wasmPath is the folder that holds the nibble-*.wasm files (nibble-simd.wasm, ...), not a file: got '${text}'`);
  }
  return text;
}

// init(options) -> { simd, wasmPath (its text), threads }, undefined where not given.
export function checkInitOptions(options, where) {
  const opts = checkOptions(options, ['simd', 'wasmPath', 'threads'], where);
  const threads = checkThreads(opts.threads, where);
  const simd = opts.simd;
  if (simd !== undefined && simd !== 'auto' && simd !== 'relaxed' && typeof simd !== 'boolean') {
    throw typeError(where, `options.simd must be 'auto', 'relaxed', true or false, got ${describe(simd)}`);
  }
  return { simd, wasmPath: checkWasmPath(opts.wasmPath, where), threads };
}

const LOAD_OPTIONS = ['onProgress', 'signal', 'weights', 'mix', 'pure', 'clip', 'tokenizer', 'context', 'simd', 'wasmPath', 'fileTensors', 'worker', 'cache', 'threads', 'importance', 'remedy'];

// loadModel(source, options) -> the options with defaults; simd and wasmPath
// are left to init(), which loadModel calls with them.
export function checkLoadOptions(source, options, where) {
  const opts = checkOptions(options, LOAD_OPTIONS, where);
  const checked = {
    onProgress: checkFunction(opts.onProgress, 'options.onProgress', where),
    signal: checkSignal(opts.signal, where),
    weights: checkChoice(opts.weights, 'options.weights', WEIGHT_TYPES, QUANT_TYPES[0], where),
    mix: checkChoice(opts.mix, 'options.mix', QUANT_MIXES, '', where),
    pure: checkBoolean(opts.pure, 'options.pure', false, where),
    clip: checkChoice(opts.clip, 'options.clip', Object.keys(CLIP_CODES), 'none', where),
    context: checkInteger(opts.context, 'options.context', 1, MAX_INT32, undefined, where),
    fileTensors: checkBoolean(opts.fileTensors, 'options.fileTensors', false, where),
    remedy: checkChoice(opts.remedy, 'options.remedy', Object.keys(REMEDY_CODES), 'none', where),
  };
  if (checked.remedy.includes('smooth') && opts.importance === undefined) {
    throw typeError(where, `options.remedy '${checked.remedy}' smooths activations by calibration data: give options.importance (an imatrix)`);
  }
  if (opts.mix !== undefined && opts.weights !== undefined) {
    throw typeError(where, `options.mix and options.weights exclude each other: the mix '${opts.mix}' decides each matrix's type`);
  }
  if (checked.pure && opts.mix === undefined) {
    throw typeError(where, 'options.pure gives every matrix the base type of options.mix (llama-quantize --pure): give options.mix');
  }
  checkSource(source, 'model', where);
  if (opts.tokenizer !== undefined) checkSource(opts.tokenizer, 'tokenizer', where);
  return {
    ...checked,
    tokenizer: opts.tokenizer,
    // An imatrix GGUF file's bytes, or what collectImportance() returned.
    importance: opts.importance === undefined ? undefined
      : asBytes(opts.importance?.bytes ?? opts.importance, 'options.importance', where),
    cache: checkBoolean(opts.cache, 'options.cache', false, where),
    threads: checkThreads(opts.threads, where),
    worker: checkBoolean(opts.worker, 'options.worker', false, where),
    simd: opts.simd,
    wasmPath: opts.wasmPath,
  };
}

// Yes (1), no (0) or as the vocabulary says (-1, when undefined), for C++.
function checkTriState(value, name, where) {
  return value === undefined ? -1 : Number(checkBoolean(value, name, undefined, where));
}

// Tokenizer.encode(text, options) -> { addBos, addEos (1, 0, -1: as the
// vocabulary says), parseSpecial }. addSpecial: false turns both defaults off.
export function checkTokenizeOptions(options, where) {
  const opts = checkOptions(options, ['addSpecial', 'addBos', 'addEos', 'parseSpecial'], where);
  const special = checkBoolean(opts.addSpecial, 'options.addSpecial', true, where);
  const fallback = special ? -1 : 0;
  const addBos = checkTriState(opts.addBos, 'options.addBos', where);
  const addEos = checkTriState(opts.addEos, 'options.addEos', where);
  return {
    addBos: addBos < 0 ? fallback : addBos,
    addEos: addEos < 0 ? fallback : addEos,
    parseSpecial: checkBoolean(opts.parseSpecial, 'options.parseSpecial', false, where),
  };
}

const SAMPLING_OPTIONS = ['maxTokens', 'temperature', 'topK', 'topP', 'seed', 'stop', 'signal', 'precision', 'onToken'];
const GENERATE_OPTIONS = [...SAMPLING_OPTIONS, 'addBos', 'parseSpecial'];
const CHAT_OPTIONS = [...SAMPLING_OPTIONS, 'template', 'now', 'templateVariables', 'truncate'];

function checkSampling(o, where) {
  const settings = {
    maxTokens: checkInteger(o.maxTokens, 'options.maxTokens', 0, MAX_INT32, 256, where),
    temperature: checkNumber(o.temperature, 'options.temperature', (t) => t >= 0 && Number.isFinite(t), 'a finite number ≥ 0 (0: greedy)', 0.8, where),
    topK: checkInteger(o.topK, 'options.topK', 0, MAX_INT32, 40, where),
    topP: checkNumber(o.topP, 'options.topP', (p) => p > 0 && p <= 1, 'in (0, 1]', 0.95, where),
    seed: checkInteger(o.seed, 'options.seed', 0, Number.MAX_SAFE_INTEGER, undefined, where) ??
      Math.floor(Math.random() * 2 ** 32),
    signal: checkSignal(o.signal, where),
    precision: checkPrecision(o.precision, 'options.precision', where),
    onToken: checkFunction(o.onToken, 'options.onToken', where),
  };
  const stop = o.stop === undefined ? [] : o.stop;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) {
    throw typeError(where, `options.stop must be an array of strings, got ${describe(o.stop)}`);
  }
  return { settings, stop };
}

// Model.generate(prompt, options) -> { settings (seed drawn when not given),
// stop (strings), addBos (1, 0, -1: as the vocabulary says), parseSpecial }.
export function checkGenerateOptions(options, where) {
  const o = checkOptions(options, GENERATE_OPTIONS, where);
  return {
    ...checkSampling(o, where),
    addBos: checkTriState(o.addBos, 'options.addBos', where),
    parseSpecial: checkBoolean(o.parseSpecial, 'options.parseSpecial', false, where),
  };
}

// Model.chat(messages, options) -> generate's { settings, stop } and
// { template, now, variables, truncate } (template and now are checked where
// the template is rendered).
export function checkChatOptions(options, where) {
  const o = checkOptions(options, CHAT_OPTIONS, where);
  const variables = o.templateVariables ?? {};
  if (variables === null || typeof variables !== 'object' || Array.isArray(variables)) {
    throw typeError(where, `options.templateVariables must be an object of template variables, got ${describe(o.templateVariables)}`);
  }
  return {
    ...checkSampling(o, where),
    template: o.template,
    now: o.now,
    variables,
    truncate: checkChoice(o.truncate, 'options.truncate', ['none', 'oldest'], 'none', where),
  };
}

// Model.logits(ids, options) -> { precision, batch (undefined: the default) }.
export function checkLogitsOptions(options, where) {
  const opts = checkOptions(options, ['precision', 'batch'], where);
  return {
    precision: checkPrecision(opts.precision, 'options.precision', where),
    batch: checkInteger(opts.batch, 'options.batch', 1, MAX_INT32, undefined, where),
  };
}

// evaluate(model, text, options) -> { reference (unchecked: evaluate's
// own check), context (undefined: the default), precision, onProgress, signal }.
export function checkEvaluateOptions(options, where) {
  const opts = checkOptions(options, ['reference', 'context', 'precision', 'onProgress', 'signal'], where);
  return {
    reference: opts.reference,
    context: checkInteger(opts.context, 'options.context', 4, MAX_INT32, undefined, where),
    precision: checkPrecision(opts.precision, 'options.precision', where),
    onProgress: checkFunction(opts.onProgress, 'options.onProgress', where),
    signal: checkSignal(opts.signal, where),
  };
}

// collectImportance(model, text, options) -> { context, self, seed (drawn
// when not given), dataset, onProgress, signal }.
export function checkImportanceOptions(options, where) {
  const opts = checkOptions(options, ['context', 'self', 'seed', 'dataset', 'onProgress', 'signal'], where);
  if (opts.dataset !== undefined && typeof opts.dataset !== 'string') {
    throw typeError(where, `options.dataset must be a string, got ${describe(opts.dataset)}`);
  }
  return {
    context: checkInteger(opts.context, 'options.context', 2, MAX_INT32, undefined, where),
    self: checkInteger(opts.self, 'options.self', 2, MAX_INT32, undefined, where),
    seed: checkInteger(opts.seed, 'options.seed', 0, 2 ** 32 - 1, undefined, where) ?? Math.floor(Math.random() * 2 ** 31),
    dataset: opts.dataset,
    onProgress: checkFunction(opts.onProgress, 'options.onProgress', where),
    signal: checkSignal(opts.signal, where),
  };
}

// quantizeCalibrated(model, text, options) -> { type, context, self, seed
// (drawn when not given), onProgress, signal }.
export function checkCalibratedOptions(options, where) {
  const opts = checkOptions(options, ['type', 'context', 'self', 'seed', 'onProgress', 'signal'], where);
  const types = ['q4_0', 'iq4_nl'];
  const { type = types[0], ...rest } = opts;
  if (!types.includes(type)) throw rangeError(where, `options.type is ${describe(type)}; calibrated quantization writes ${quotedList(types)}`);
  return { ...checkImportanceOptions(rest, where), type };
}

// lowRankRemedy(model, text, options) -> checkImportanceOptions' and rank.
export function checkLowRankOptions(options, where, fallback) {
  const opts = checkOptions(options, ['rank', 'context', 'self', 'seed', 'onProgress', 'signal'], where);
  const { rank, ...rest } = opts;
  return { ...checkImportanceOptions(rest, where), rank: checkInteger(rank, 'options.rank', 1, 64, fallback, where) };
}

// QuantizedMatrix.matmul(x, m, options) -> precision.
export function checkMatmulOptions(options, where) {
  const opts = checkOptions(options, ['precision'], where);
  return checkPrecision(opts.precision, 'options.precision', where);
}

// quantize(weights, [rows, cols], options) -> { type, clip, importance (or null) }.
export function checkQuantizeOptions(options, cols, where) {
  const opts = checkOptions(options, ['type', 'clip', 'importance'], where);
  const type = checkTypeName(opts.type ?? QUANT_TYPES[0], 'options.type', where);
  const clip = checkChoice(opts.clip, 'options.clip', Object.keys(CLIP_CODES), 'none', where);
  const importance = opts.importance ?? null;
  if (importance !== null) {
    checkFloat32Array(importance, 'options.importance', where);
    if (importance.length !== cols) {
      throw rangeError(where, `options.importance.length is ${importance.length}; it needs one value per column, cols = ${cols}`);
    }
  }
  return { type, clip, importance };
}

// Freezes an object and everything it holds (the info objects users get).
export function deepFreeze(value) {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
