// Loads the wasm module: picks the SIMD or the scalar build, finds the .wasm
// (next to the JS, or in options.wasmPath), reads it (fs in Node, fetch
// elsewhere) and instantiates it through the Emscripten glue. The glue is
// always handed the bytes (instantiateWasm), so it never fetches anything on
// its own: that keeps Node 20 working without flags and never reaches a CDN.
//
// A platform object, one per build (ESM, CommonJS, script tag), supplies:
//   importGlue(flavour) -> Promise<factory>   the glue module of a flavour
//   defaultDir()        -> string             URL of the folder of this JS file
//   node()              -> Promise<{ readFile, pathToFileURL, resolvePath } | null>
import { plainError, typeError } from './errors.mjs';
import { describe } from './validate.mjs';

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

export function isNode() {
  return typeof process === 'object' && process !== null && typeof process.versions?.node === 'string';
}

function pickFlavour(simd) {
  if (simd === undefined || simd === 'auto') return simdSupported() ? 'simd' : 'scalar';
  if (simd === true) {
    if (!simdSupported()) {
      throw plainError(WHERE, "this JavaScript engine has no WebAssembly SIMD; use simd: 'auto' or simd: false");
    }
    return 'simd';
  }
  if (simd === false) return 'scalar';
  throw typeError(WHERE, `options.simd must be 'auto', true or false, got ${describe(simd)}`);
}

// The folder holding the .wasm files, as a URL string ending in '/'.
async function wasmDir(platform, wasmPath) {
  if (wasmPath === undefined) return platform.defaultDir();
  let text;
  if (typeof wasmPath === 'string') text = wasmPath;
  else if (wasmPath !== null && typeof wasmPath === 'object' && typeof wasmPath.href === 'string') text = wasmPath.href;
  else throw typeError(WHERE, `options.wasmPath must be a string or a URL, got ${describe(wasmPath)}`);
  if (/\.wasm([?#].*)?$/.test(text)) {
    throw typeError(WHERE, `options.wasmPath is the folder that holds nibble-simd.wasm and nibble-scalar.wasm, not a file: got '${text}'`);
  }
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

// Resolves to { module, simd, wasmUrl }: the Emscripten module object (with
// the Embind classes, _malloc/_free and the HEAP views) and how it was made.
// onAbort(reason) is told when the wasm code aborts later on.
export async function loadWasm(platform, options, onAbort) {
  if (typeof WebAssembly !== 'object') throw plainError(WHERE, 'this JavaScript engine has no WebAssembly');
  const flavour = pickFlavour(options.simd);
  const wasmUrl = `${await wasmDir(platform, options.wasmPath)}nibble-${flavour}.wasm`;
  const [factory, source] = await Promise.all([platform.importGlue(flavour), readWasm(platform, wasmUrl)]);
  const module = await new Promise((resolve, reject) => {
    const fail = (e) => reject(plainError(WHERE, `could not start ${wasmUrl} (${e?.message ?? e}); is it the file built with this version of nibble's JS?`));
    factory({
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
  return { module, simd: flavour === 'simd', wasmUrl };
}
