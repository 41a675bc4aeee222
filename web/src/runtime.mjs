// The one wasm module of this JS realm: loaded on first use (or by init()),
// shared by every object, plus the helpers that move data through its heap.
// Heap views are read fresh from the module after each allocation, because
// memory growth replaces them; they never leave this folder.
import { plainError } from './errors.mjs';
import { loadWasm } from './loader.mjs';
import { checkOptions } from './validate.mjs';

let platform = null;
const state = {
  loading: null, // Promise of { module, simd, wasmUrl } while/after loading
  loaded: null, //  that object once it has resolved
  options: null, // the init() options the module was loaded with
  aborted: null, // why the wasm code aborted, if it did
};

// Called once by each build's entry file.
export function setPlatform(p) {
  platform = p;
}

function sameOptions(a, b) {
  return (a.simd ?? 'auto') === (b.simd ?? 'auto') && String(a.wasmPath ?? '') === String(b.wasmPath ?? '');
}

// init(options): loads the module now, with options. Later calls with the same
// (or no) options return the same promise; a failed load may be retried.
export function init(options) {
  const where = 'init';
  let opts;
  try {
    opts = { ...checkOptions(options, ['simd', 'wasmPath'], where) };
  } catch (e) {
    return Promise.reject(e);
  }
  if (state.loading) {
    if (options !== undefined && !sameOptions(opts, state.options)) {
      return Promise.reject(plainError(where, 'the wasm module is already loaded or loading with other options; call init(options) once, before any other nibble call'));
    }
    return state.loading.then(info);
  }
  state.options = opts;
  state.loading = loadWasm(platform, opts, (reason) => {
    state.aborted = String(reason);
  }).then(
    (loaded) => (state.loaded = loaded),
    (error) => {
      state.loading = null; // let a later call retry, e.g. with a wasmPath
      throw error;
    },
  );
  return state.loading.then(info);
}

function info(loaded) {
  return { simd: loaded.simd, wasmUrl: loaded.wasmUrl };
}

// The module if it is loaded, else null. Callers that hold inputs use it to
// copy them into the heap at once, before the caller could change them.
export function currentModule() {
  return state.loaded ? state.loaded.module : null;
}

// The module, loading it with default options if needed.
export async function getModule() {
  await init();
  return state.loaded.module;
}

// The module for code that runs only once it is loaded (methods of objects
// the module made).
export function loadedModule(where) {
  if (!state.loaded) throw plainError(where, 'the wasm module is not loaded yet; await nibble.init() first');
  return state.loaded.module;
}

// Runs fn(ptrs) with wasm heap buffers of the given byte sizes, then frees
// them, whatever happens. A wasm trap becomes an Error that says the module
// can no longer be used.
export function withHeapBuffers(wasm, byteSizes, where, fn) {
  if (state.aborted) {
    throw plainError(where, `the wasm module stopped after an earlier failure (${state.aborted}); reload nibble`);
  }
  const ptrs = [];
  try {
    for (const size of byteSizes) {
      const ptr = wasm._malloc(size);
      if (ptr === 0) {
        throw plainError(where, `out of wasm memory allocating ${size} bytes; the wasm heap is limited to 4 GB, dispose() matrices you no longer need`);
      }
      ptrs.push(ptr);
    }
    return fn(ptrs);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      state.aborted = e.message;
      throw plainError(where, `the wasm code failed (${e.message}); the module cannot be used any more, reload nibble`);
    }
    throw e;
  } finally {
    for (const ptr of ptrs) wasm._free(ptr);
  }
}

// Copies a typed array into the heap at ptr.
export function copyIn(wasm, ptr, array) {
  wasm.HEAPU8.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), ptr);
}

// Copies n floats / bytes out of the heap into a new array the caller owns.
export function copyOutFloat32(wasm, ptr, n) {
  return wasm.HEAPF32.slice(ptr >>> 2, (ptr >>> 2) + n);
}

export function copyOutBytes(wasm, ptr, n) {
  return wasm.HEAPU8.slice(ptr, ptr + n);
}

// Test-only views of the heap (see tests/js): not part of the API.
export const debug = Object.freeze({
  heapBytesInUse() {
    return loadedModule('_debug.heapBytesInUse').heapBytesInUse();
  },
  wasmMemoryBytes() {
    return loadedModule('_debug.wasmMemoryBytes').HEAPU8.length;
  },
});

