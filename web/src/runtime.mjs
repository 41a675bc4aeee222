// The one wasm module of this JS realm: loaded on first use (or by init()),
// shared by every object, plus the helpers that move data through its heap.
// Heap views are read fresh from the module after each allocation, because
// memory growth replaces them; they never leave this folder.
import { plainError } from './errors.mjs';
import { checkInitOptions } from './validate.mjs';
import {
  isThreadsFlavour, loadToolsWasm, loadWasm, reserveWorkers, resolveThreads, warnNoThreads,
} from './wasm_module.mjs';

let platform = null;
const state = {
  loading: null, // Promise of loadWasm()'s { module, simd, flavour, threads, ... } while/after loading
  loaded: null, //  that object once it has resolved
  options: null, // the init() options the module was loaded with
  aborted: null, // why the wasm code aborted, if it did
};

// Called once by each build's entry file.
export function setPlatform(p) {
  platform = p;
}

// The platform of this build (file access in Node, the glue's location).
export function currentPlatform() {
  return platform;
}

// Whether a later call's options fit the loaded module: only the options it
// gives count (loadModel passes its threads on without the others). The
// threads option never conflicts: the first call picks the build, and a later
// one can only ask for another thread count for the models it loads.
function sameOptions(later, first) {
  return (later.simd === undefined || (later.simd ?? 'auto') === (first.simd ?? 'auto')) &&
    (later.wasmPath === undefined || String(later.wasmPath) === String(first.wasmPath ?? ''));
}

const LOADED_WITHOUT_THREADS = 'the wasm module was already loaded with one thread ' +
  '(pass the threads option to the first nibble call: init() or loadModel())';

// threads were asked for (a checked option) while the module has none: warn.
function noteThreadsRequest(loaded, threads) {
  if (!isThreadsFlavour(loaded.flavour) && resolveThreads(threads, loaded.cores) > 1) {
    warnNoThreads(loaded.threadsUnavailable ?? LOADED_WITHOUT_THREADS);
  }
}

function noteAbort(reason) {
  state.aborted = String(reason);
}

// init(options): loads the module now, with options. Later calls with the same
// (or no) options return the same promise; a failed load may be retried.
export function init(options) {
  const where = 'init';
  let opts;
  try {
    opts = checkInitOptions(options, where);
  } catch (e) {
    return Promise.reject(e);
  }
  if (state.loading) {
    if (options !== undefined && !sameOptions(opts, state.options)) {
      return Promise.reject(plainError(where, 'the wasm module is already loaded or loading with other options; call init(options) once, before any other nibble call'));
    }
    return state.loading.then((loaded) => {
      noteThreadsRequest(loaded, opts.threads);
      return info(loaded);
    });
  }
  state.options = opts;
  state.loading = loadWasm(platform, opts, noteAbort).then(
    (loaded) => (state.loaded = loaded),
    (error) => {
      state.loading = null; // let a later call retry, e.g. with a wasmPath
      throw error;
    },
  );
  return state.loading.then(info);
}

// What init() resolves to: which build runs. threads: the models' default
// thread count (1 unless a threads flavour loaded); threadsUnavailable: why
// threads were asked for but the single-thread build loaded, else null.
function info(loaded) {
  return {
    simd: loaded.simd,
    threads: loaded.threads,
    flavour: loaded.flavour,
    threadsUnavailable: loaded.threadsUnavailable,
    wasmUrl: loaded.wasmUrl,
  };
}

// For an object that owns a C++ thread pool (a model): the thread count to
// create it with, from its threads option (undefined: the module's default),
// with that many - 1 pthread workers started and idle. Create the pool right
// after this resolves, with no await in between, so no other caller takes
// the workers first. Without the threads build: 1 (with the one warning if
// more were asked for).
// `threads` comes checked (loadModel's checkLoadOptions).
export async function reserveThreads(threads, where) {
  await getModule();
  const loaded = state.loaded;
  if (!isThreadsFlavour(loaded.flavour)) {
    noteThreadsRequest(loaded, threads);
    return 1;
  }
  const n = threads === undefined ? loaded.threads : resolveThreads(threads, loaded.cores);
  if (n > 1) await reserveWorkers(loaded.module, n - 1, where);
  return n;
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

// The tools module of the loaded build (wasm_module.mjs loadToolsWasm), for
// lazy_parts.mjs loadTools(): the name of its file and a function that
// starts it.
export function toolsBuild() {
  const { flavour } = state.loaded;
  return {
    name: `nibble-${flavour}-tools`,
    start: () => loadToolsWasm(platform, flavour, state.options.wasmPath, noteAbort),
  };
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
    refreshHeapViews(wasm);
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

const HEAP_VIEWS = [
  ['HEAP8', Int8Array], ['HEAPU8', Uint8Array], ['HEAP16', Int16Array], ['HEAPU16', Uint16Array],
  ['HEAP32', Int32Array], ['HEAPU32', Uint32Array], ['HEAPF32', Float32Array], ['HEAPF64', Float64Array],
];

// Makes wasm.HEAP* view the whole memory. The glue renews them when memory
// grows on the main thread; in the threads build a worker thread may grow it
// too, leaving the main thread's views on the old, shorter buffer.
// (wasm.wasmMemory exists in the threads build only.)
export function refreshHeapViews(wasm) {
  const memory = wasm.wasmMemory;
  if (memory && wasm.HEAPU8.buffer !== memory.buffer) {
    for (const [name, View] of HEAP_VIEWS) wasm[name] = new View(memory.buffer);
  }
}

// Copies a typed array into the heap at ptr.
export function copyIn(wasm, ptr, array) {
  refreshHeapViews(wasm);
  wasm.HEAPU8.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), ptr);
}

// Copies n floats / bytes out of the heap into a new array the caller owns.
export function copyOutFloat32(wasm, ptr, n) {
  refreshHeapViews(wasm);
  return wasm.HEAPF32.slice(ptr >>> 2, (ptr >>> 2) + n);
}

export function copyOutBytes(wasm, ptr, n) {
  refreshHeapViews(wasm);
  return wasm.HEAPU8.slice(ptr, ptr + n);
}

// The result buffer of the handle's last call (a TextModel or TextTokenizer),
// read out by read(ptr, n) and then freed in C++.
export function takeResult(wasm, handle, where, read) {
  const n = handle.resultSize();
  return withHeapBuffers(wasm, [Math.max(n, 1)], where, ([out]) => {
    handle.copyResult(out);
    handle.clearResult();
    return read(out, n);
  });
}

// Test-only views of the heap (see tests/js): not part of the API.
export const debug = Object.freeze({
  heapBytesInUse() {
    return loadedModule('_debug.heapBytesInUse').heapBytesInUse();
  },
  wasmMemoryBytes() {
    const wasm = loadedModule('_debug.wasmMemoryBytes');
    refreshHeapViews(wasm);
    return wasm.HEAPU8.length;
  },
  // The most bytes malloc has held at once since the module started.
  heapPeakBytes() {
    return loadedModule('_debug.heapPeakBytes').heapPeakBytes();
  },
});

