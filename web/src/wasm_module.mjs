// Loads the wasm module (model files are loaded by model.mjs): picks the
// build (SIMD + threads, relaxed SIMD, SIMD, or scalar), finds the .wasm
// (next to the JS, or in options.wasmPath), reads it (fs in Node, fetch
// elsewhere) and instantiates it through the Emscripten glue. The glue is
// always handed the bytes (instantiateWasm), so it never fetches anything on
// its own: that keeps Node 20 working without flags and never reaches a CDN.
//
// Builds ("flavours"), each dist/nibble-<flavour>.{mjs,cjs,wasm}:
//   simd-threads  SIMD + pthreads (+ nibble-simd-threads.worker.mjs); chosen
//                 when more than one thread is asked for and the page may
//                 share memory (cross-origin isolated; Node always may)
//   simd-relaxed-threads  the same for relaxed SIMD (below), chosen instead
//                 where the single-thread pick would be simd-relaxed
//   simd-relaxed  SIMD plus relaxed SIMD's int8 dot (rows-in-lanes packing,
//                 ~1.5× faster GEMVs), one thread; chosen by simd: 'auto'
//                 where the engine has it and computes it right (Chrome ≥ 114,
//                 Firefox ≥ 120, Node ≥ 22, Node 20 with
//                 --experimental-wasm-relaxed-simd)
//   simd          WebAssembly SIMD, one thread
//   scalar        for engines without SIMD
// The single-thread SIMD and relaxed-SIMD builds leave the quantize-only
// tools (collectImportance, quantizeCalibrated) out of the first download:
// each has a tools module, nibble-<flavour>-tools.{mjs,cjs,wasm}, loaded on
// first use (loadToolsWasm); the other builds carry the tools.
// When threads are asked for but cannot run, the single-thread build loads
// and one console warning says why.
//
// A platform object, one per build (ESM, CommonJS, script tag), supplies:
//   importGlue(flavour) -> Promise<factory>   the glue module of a flavour
//                                             (or of a tools module: 'simd-tools',
//                                             'simd-relaxed-tools')
//   importChat()        -> Promise<module>    nibble-chat (chat templates, chat_entry.mjs)
//   importQuality()     -> Promise<module>    nibble-quality (evaluate, collectImportance:
//                                             quality_entry.mjs)
//   importWorkerClient() -> Promise<module>   nibble-worker-client (worker_client.mjs)
//   importCache()       -> Promise<module>    nibble-cache (cache.mjs); these four:
//                                             lazy_parts.mjs
//   defaultDir()        -> string             URL of the folder of this JS file
//                                             (the glue and worker scripts)
//   node()              -> Promise<{ readFile, open, pathToFileURL, fileURLToPath,
//                                    resolvePath, Worker, cpuCount } | null>
//   flavours            (optional) the flavours it has, when not all of them
import { plainError } from './errors.mjs';

const WHERE = 'init';

// (func (result v128) (i32x4.dot_i16x8_s (i8x16.splat 0) (i8x16.splat 0))):
// validates where the SIMD instructions the kernels use exist.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, // magic, version
  1, 5, 1, 96, 0, 1, 123, //     type: () -> v128
  3, 2, 1, 0, //                 one function of type 0
  10, 15, 1, 13, 0, //           code: one body, no locals
  65, 0, 253, 15, 65, 0, 253, 15, 253, 186, 1, 11,
]);

export function simdSupported() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

// A module whose function f() runs i16x8.relaxed_dot_i8x16_i7x16_s on
// constants and returns 1 if every lane is exact (the kernels' operands:
// int8 × 0..15). Running it, not only validating it, also catches an
// engine that accepts the opcode but computes something else.
function relaxedProbe() {
  const v128Const = (bytes) => [253, 12, ...bytes];
  const i16Bytes = (lanes) => lanes.flatMap((v) => [v & 255, (v >> 8) & 255]);
  const a = [-128, 127, -1, 5, 100, -100, 7, -7, 127, 127, -128, -128, 0, 1, 2, 3];
  const b = [15, 15, 3, 0, 1, 2, 15, 14, 15, 15, 15, 15, 9, 9, 0, 15];
  const want = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1]);
  const body = [
    0, // no locals
    ...v128Const(a.map((v) => v & 255)), ...v128Const(b),
    253, 146, 2, //        i16x8.relaxed_dot_i8x16_i7x16_s
    ...v128Const(i16Bytes(want)),
    253, 45, //            i16x8.eq
    253, 131, 1, //        i16x8.all_true
    11,
  ];
  return new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0,
    1, 5, 1, 96, 0, 1, 127, //        type: () -> i32
    3, 2, 1, 0,
    7, 5, 1, 1, 102, 0, 0, //         export "f"
    10, body.length + 2, 1, body.length, ...body,
  ]);
}

let relaxed;
export function relaxedSimdSupported() {
  if (relaxed === undefined) {
    try {
      const probe = relaxedProbe();
      relaxed = simdSupported() && WebAssembly.validate(probe) &&
        new WebAssembly.Instance(new WebAssembly.Module(probe)).exports.f() === 1;
    } catch {
      relaxed = false;
    }
  }
  return relaxed;
}

// The pthreads builds.
export function isThreadsFlavour(flavour) {
  return flavour.endsWith('-threads');
}

export function isNode() {
  return typeof process === 'object' && process !== null && typeof process.versions?.node === 'string';
}

// simd: the checked option (validate.mjs checkInitOptions).
function pickFlavour(simd, platform) {
  if (simd === undefined || simd === 'auto') {
    const relaxedThere = !platform.flavours || platform.flavours.includes('simd-relaxed');
    return relaxedThere && relaxedSimdSupported() ? 'simd-relaxed' : simdSupported() ? 'simd' : 'scalar';
  }
  if (simd === 'relaxed') {
    if (!relaxedSimdSupported()) {
      throw plainError(WHERE, "this JavaScript engine has no relaxed WebAssembly SIMD (Node 20 needs --experimental-wasm-relaxed-simd); use simd: 'auto'");
    }
    return 'simd-relaxed';
  }
  if (simd === true) {
    if (!simdSupported()) {
      throw plainError(WHERE, "this JavaScript engine has no WebAssembly SIMD; use simd: 'auto' or simd: false");
    }
    return 'simd';
  }
  return 'scalar'; // simd === false
}

// The folder holding the .wasm files, as a URL string ending in '/'. text:
// the checked wasmPath option (validate.mjs checkInitOptions).
async function wasmDir(platform, text) {
  if (text === undefined) return platform.defaultDir();
  let url;
  const hasScheme = /^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(text) && !/^[a-zA-Z]:[\\/]/.test(text);
  const node = hasScheme ? null : await platform.node();
  if (hasScheme) url = new URL(text);
  else if (node) url = node.pathToFileURL(node.resolvePath(text)); // a file path in Node
  else url = new URL(text, globalThis.document?.baseURI ?? globalThis.location?.href);
  const href = url.href.replace(/[?#].*$/, '');
  return href.endsWith('/') ? href : `${href}/`;
}

// Resolves to what WebAssembly.instantiate* takes: bytes, or a Response.
async function readWasm(platform, url) {
  const advice = 'serve the .wasm files of dist/ next to the JS, or pass init({ wasmPath }) with the folder that holds them';
  if (url.startsWith('file:')) {
    const node = await platform.node();
    if (node) {
      try {
        return await node.readFile(new URL(url));
      } catch (e) {
        throw plainError(WHERE, `could not read ${url} (${e.code ?? e.message}); ${advice}`);
      }
    }
  }
  if (typeof fetch !== 'function') throw plainError(WHERE, `no fetch() here to load ${url}; ${advice}`);
  let response;
  try {
    response = await fetch(url, { credentials: 'same-origin' });
  } catch (e) {
    throw plainError(WHERE, `could not fetch ${url} (${e.message}); ${advice}`);
  }
  if (!response.ok) throw plainError(WHERE, `could not fetch ${url}: HTTP ${response.status}; ${advice}`);
  return response;
}

async function instantiate(source, imports) {
  const isResponse = typeof Response === 'function' && source instanceof Response;
  if (isResponse && typeof WebAssembly.instantiateStreaming === 'function' &&
      source.headers.get('Content-Type')?.startsWith('application/wasm')) {
    return WebAssembly.instantiateStreaming(source, imports);
  }
  return WebAssembly.instantiate(isResponse ? await source.arrayBuffer() : source, imports);
}

// ---------------------------------------------------------------------------
// Threads

// threads: 'auto' uses the logical cores, at most this many.
const MAX_AUTO_THREADS = 8;

// Logical CPUs in Node (os: node:os).
export function cpuCount(os) {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

function logicalCores(node) {
  if (node) return node.cpuCount;
  return Math.max(1, Number(globalThis.navigator?.hardwareConcurrency) || 1);
}

// A checked threads option -> a count: 'auto' = the cores (capped).
export function resolveThreads(threads, cores) {
  if (threads === 'auto') return Math.max(1, Math.min(cores, MAX_AUTO_THREADS));
  return threads ?? 1;
}

function sharedMemoryWorks() {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

// Why the threads build cannot run here, or null when it can.
function threadsUnavailable(simdFlavour, simdOption, node) {
  if (simdFlavour === 'scalar') {
    return simdOption === false
      ? 'the multithreaded build is a SIMD build and simd: false was asked'
      : 'the multithreaded build needs WebAssembly SIMD, which this JavaScript engine lacks';
  }
  if (typeof SharedArrayBuffer !== 'function' || (!node && globalThis.crossOriginIsolated !== true)) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and ' +
      'Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (!sharedMemoryWorks()) return 'this JavaScript engine has no shared WebAssembly memory (wasm threads)';
  if (node ? typeof node.Worker !== 'function' : typeof Worker !== 'function') {
    return 'this context cannot start workers';
  }
  return null;
}

// The one warning of this realm about threads falling back to one.
let warned = false;
export function warnNoThreads(reason) {
  if (warned) return;
  warned = true;
  console.warn(`nibble: threads unavailable because ${reason}; using 1 thread`);
}

// A worker_threads Worker behind what the glue uses of a web Worker:
// onmessage / onerror properties, postMessage, terminate. Once its copy of
// the module has loaded, it no longer keeps Node running (unref): idle pool
// threads must not stop a script from exiting.
class NodePthreadWorker {
  constructor(NodeWorker, url) {
    this.onmessage = null;
    this.onerror = null;
    // execArgv: [] because by default a worker inherits the main script's
    // flags, and some (--input-type, -e) stop it from starting.
    this.worker = new NodeWorker(new URL(url), { name: 'nibble pthread', execArgv: [] });
    this.worker.on('message', (data) => {
      if (data?.cmd === 'loaded') this.worker.unref();
      this.onmessage?.({ data });
    });
    this.worker.on('error', (e) => this.onerror?.(e));
  }

  postMessage(message, transfer) {
    this.worker.postMessage(message, transfer);
  }

  terminate() {
    return this.worker.terminate();
  }
}

// What the threads glue needs to start pthread workers (see wrap-glue.mjs):
// the glue module's URL, for the workers to import, and a worker factory.
function threadGlueOptions(platform, node, flavour) {
  const glueUrl = new URL(`nibble-${flavour}.mjs`, platform.defaultDir()).href;
  const workerUrl = new URL(`nibble-${flavour}.worker.mjs`, platform.defaultDir()).href;
  return {
    mainScriptUrlOrBlob: glueUrl,
    // The glue warns once when the page's main thread blocks. Here that is by
    // design and safe: a matmul waits only for pool threads that are already
    // running (reserveWorkers), never for anything the main thread must do.
    printErr(text) {
      if (!String(text).startsWith('Blocking on the main thread is very dangerous')) console.warn(text);
    },
    nibbleNewWorker() {
      const worker = node ? new NodePthreadWorker(node.Worker, workerUrl) : new Worker(workerUrl, { name: 'nibble pthread' });
      worker.nibbleUrl = workerUrl;
      return worker;
    },
  };
}

// Makes sure `count` pthread workers are started and idle, so that C++ can
// create that many threads at once without waiting (a blocked main thread
// cannot start a worker). Resolves once they have loaded the module; a
// worker that fails to start is dropped, and the promise rejects.
export function reserveWorkers(module, count, where = WHERE) {
  const pthread = module.PThread;
  const advice = "serve the nibble-*.worker.mjs files of dist/ next to nibble's JS, from the page's origin";
  while (pthread.unusedWorkers.length < count) {
    try {
      pthread.allocateUnusedWorker();
    } catch (e) {
      return Promise.reject(plainError(where, `could not start a thread worker (${e.message}); ${advice}`));
    }
    const worker = pthread.unusedWorkers[pthread.unusedWorkers.length - 1];
    worker.nibbleLoaded = new Promise((resolve, reject) => {
      pthread.loadWasmModuleToWorker(worker, () => {
        worker.onerror = glueOnError;
        resolve();
      });
      const glueOnError = worker.onerror;
      worker.onerror = (e) => {
        const at = pthread.unusedWorkers.indexOf(worker);
        if (at >= 0) pthread.unusedWorkers.splice(at, 1);
        worker.terminate();
        reject(plainError(where, `could not start a thread worker from ${worker.nibbleUrl} (${e?.message || 'it did not load'}); ${advice}`));
      };
    });
  }
  return Promise.all(pthread.unusedWorkers.map((worker) => worker.nibbleLoaded));
}

// ---------------------------------------------------------------------------
// Loading

// Which build to load: { flavour, threads, threadsUnavailable }.
async function pickBuild(platform, options) {
  const simdFlavour = pickFlavour(options.simd, platform);
  const node = isNode() ? await platform.node() : null;
  const threads = resolveThreads(options.threads, logicalCores(node));
  if (threads <= 1) return { flavour: simdFlavour, threads: 1, threadsUnavailable: null, node };
  const reason = threadsUnavailable(simdFlavour, options.simd, node);
  if (reason) {
    warnNoThreads(reason);
    return { flavour: simdFlavour, threads: 1, threadsUnavailable: reason, node };
  }
  return { flavour: `${simdFlavour}-threads`, threads, threadsUnavailable: null, node };
}

// Resolves to { module, simd, flavour, threads, threadsUnavailable, wasmUrl,
// cores }: the Emscripten module object (with the Embind classes,
// _malloc/_free and the HEAP views) and how it was made. threads: the default
// thread count of models (1 unless the threads build runs), with that many
// - 1 pthread workers started. onAbort(reason) is told when the wasm code
// aborts later on.
export async function loadWasm(platform, options, onAbort) {
  if (typeof WebAssembly !== 'object') throw plainError(WHERE, 'this JavaScript engine has no WebAssembly');
  const { flavour, threads, threadsUnavailable: why, node } = await pickBuild(platform, options);
  const { module, wasmUrl } = await startBuild(platform, flavour, options.wasmPath, node, onAbort);
  if (threads > 1) await reserveWorkers(module, threads - 1);
  return {
    module, simd: flavour !== 'scalar', flavour, threads, threadsUnavailable: why, wasmUrl, cores: logicalCores(node),
  };
}

// Whether a loaded module has the quantize-only tools (ModelTools,
// bindings/tools_bindings.cpp). The single-thread SIMD and relaxed-SIMD
// builds leave them to their tools module (loadToolsWasm).
export function hasTools(module) {
  return typeof module.ModelTools === 'function';
}

// The tools module of a single-thread build: dist/nibble-<flavour>-tools,
// the whole engine plus the tools, for what the first download leaves out.
// Resolves to the Emscripten module object.
export async function loadToolsWasm(platform, flavour, wasmPath, onAbort) {
  return (await startBuild(platform, `${flavour}-tools`, wasmPath, null, onAbort)).module;
}

// Reads nibble-<flavour>.wasm and starts it through its glue:
// { module, wasmUrl }.
async function startBuild(platform, flavour, wasmPath, node, onAbort) {
  const wasmUrl = `${await wasmDir(platform, wasmPath)}nibble-${flavour}.wasm`;
  const [factory, source] = await Promise.all([platform.importGlue(flavour), readWasm(platform, wasmUrl)]);
  const module = await new Promise((resolve, reject) => {
    const fail = (e) => reject(plainError(WHERE, `could not start ${wasmUrl} (${e?.message ?? e}); is it the file built with this version of nibble's JS?`));
    factory({
      ...(isThreadsFlavour(flavour) ? threadGlueOptions(platform, node, flavour) : {}),
      instantiateWasm(imports, receive) {
        instantiate(source, imports).then(({ instance, module: compiled }) => receive(instance, compiled), fail);
        return {}; // exports arrive asynchronously through receive()
      },
      onAbort(reason) {
        fail(new Error(`aborted: ${reason}`)); // no-op once loaded
        onAbort(reason);
      },
    }).then(resolve, fail);
  });
  return { module, wasmUrl };
}
