// The parts of the API loaded on first use, each a file of its own in dist/
// (web/build.mjs), so that pages that never use them never download them:
//   nibble-chat     chat templates and their renderer (chat_entry.mjs, with
//                   @huggingface/jinja; ~17 KB gzipped), for applyChatTemplate
//                   and chat
//   nibble-quality  evaluate(), collectImportance() and quantizeCalibrated()
//                   (quality_entry.mjs;
//                   ~4 KB gzipped)
//   nibble-worker-client  loadModel(source, { worker: true })'s side of the
//                   worker (worker_client.mjs; ~3 KB gzipped)
//   nibble-cache    loadModel(url, { cache: true })'s Cache API store
//                   (cache.mjs; ~1 KB gzipped)
// The platform imports each (importChat(), importQuality(),
// importWorkerClient(), importCache()). And a wasm module:
//   nibble-<flavour>-tools  the engine plus the quantize-only tools
//                   (ModelTools: collectImportance, quantizeCalibrated) for
//                   the SIMD and relaxed-SIMD builds, which leave them out
//                   (wasm_module.mjs loadToolsWasm; ~165 KB gzipped)
// Promise of the part's module; a failed download may be retried.
import { plainError } from './errors.mjs';
import { currentPlatform, toolsBuild } from './runtime.mjs';
import { hasTools } from './wasm_module.mjs';

const loading = new Map(); // file name -> Promise of its module

function loadPart(name, importPart, what, where) {
  let part = loading.get(name);
  if (!part) {
    part = importPart(currentPlatform()).catch((e) => {
      loading.delete(name);
      throw plainError(where, `could not load ${name}, ${what} (${e.message}); serve it next to the nibble JS files`);
    });
    loading.set(name, part);
  }
  return part;
}

export function loadChat(where) {
  return loadPart('nibble-chat', (p) => p.importChat(), 'the chat-template renderer', where);
}

export function loadQuality(where) {
  return loadPart('nibble-quality', (p) => p.importQuality(), 'the quality tools (evaluate, collectImportance, quantizeCalibrated)', where);
}

export function loadWorkerClient(where) {
  return loadPart('nibble-worker-client', (p) => p.importWorkerClient(), 'the client of the model worker', where);
}

export function loadCache(where) {
  return loadPart('nibble-cache', (p) => p.importCache(), 'the model cache', where);
}

// The module whose ModelTools work on models of `wasm` (a loaded module):
// `wasm` itself if it has them, else the loaded build's tools module.
export function loadTools(wasm, where) {
  if (hasTools(wasm)) return Promise.resolve(wasm);
  const { name, start } = toolsBuild();
  return loadPart(name, start, 'the quantize tools (collectImportance, quantizeCalibrated)', where);
}
