// Argument checks shared by the API functions. They run before anything
// touches the wasm heap, so bad input never reaches C++ as a bad pointer.
// Typed arrays are recognised by their tag, not instanceof, so arrays made in
// another realm (an iframe, a worker, a test sandbox) are accepted too.
import { rangeError, typeError } from './errors.mjs';

// Entries of a shape go to C++ as uint32; 2^31 keeps byte counts sane too.
const MAX_DIMENSION = 2 ** 31 - 1;

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

export function isFloat32Array(value) {
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
export function checkOptions(options, known, where) {
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

// One of `choices` (strings), or `fallback` when undefined.
export function checkChoice(value, name, choices, fallback, where) {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') {
    throw typeError(where, `${name} must be a string (${choices.map((c) => `'${c}'`).join(' or ')}), got ${describe(value)}`);
  }
  if (!choices.includes(value)) {
    throw rangeError(where, `${name} must be ${choices.map((c) => `'${c}'`).join(' or ')}, got '${value}'`);
  }
  return value;
}

// An ArrayBuffer or any ArrayBufferView -> a Uint8Array over the same bytes.
export function asBytes(value, name, where) {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  const tag = tagOf(value);
  if (tag === 'ArrayBuffer' || tag === 'SharedArrayBuffer') return new Uint8Array(value);
  throw typeError(where, `${name} must be a Uint8Array or an ArrayBuffer, got ${describe(value)}`);
}

// Freezes an object and everything it holds (the info objects users get).
export function deepFreeze(value) {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
