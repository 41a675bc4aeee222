// Turns Emscripten's classic (UMD) glue script into the two module forms the
// JS API loads, and copies the .wasm beside them:
//   <name>.mjs   ES module, `export default createNibbleWasm`
//   <name>.cjs   CommonJS,  `module.exports = createNibbleWasm`
// Called by bindings/CMakeLists.txt after linking:
//   node web/wrap-glue.mjs build/.../nibble-simd.js dist/
//
// A pthreads build (Emscripten also wrote <name>.worker.js) gets two edits,
// both checked to apply exactly once, so a different Emscripten fails here
// instead of at run time:
//   - the glue asks Module.nibbleNewWorker() for each pthread worker instead
//     of calling `new Worker(...)` itself: web/src/wasm_module.mjs supplies a
//     browser Worker, or in Node a worker_threads Worker behind the same
//     onmessage/postMessage surface (the glue is built for web only, so it
//     carries no require() and stays a plain ES module);
//   - <name>.worker.mjs: the worker script, which imports the glue module
//     (the URL the main thread passes as mainScriptUrlOrBlob) with import()
//     instead of importScripts(), and starts with a prologue that gives a
//     Node worker thread the self / postMessage / onmessage of a web worker.
//     It is valid as a classic worker script and as an ES module (Node).
import { transformSync } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const EXPORT_NAME = 'createNibbleWasm';
// Emscripten 3.1.6 ends a MODULARIZE build with this UMD export block; it is
// replaced so that an AMD `define` on a page is never called.
const UMD_TAIL = "if (typeof exports === 'object' && typeof module === 'object')";

const [gluePath, distDir] = process.argv.slice(2);
if (!gluePath || !distDir) {
  console.error('usage: node web/wrap-glue.mjs <emscripten output .js> <dist dir>');
  process.exit(2);
}

function fail(message) {
  console.error(`${gluePath}: ${message}`);
  process.exit(1);
}

// text with `from` replaced by `to`, which must occur exactly once.
function replaceOnce(text, from, to, what) {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) {
    fail(`${what}: expected exactly one '${from}' (is this Emscripten 3.1.6 output?)`);
  }
  return text.slice(0, at) + to + text.slice(at + from.length);
}

// Node worker threads have no self, postMessage or onmessage; this builds
// them from worker_threads before the worker script's own code needs them.
// Messages that arrive first wait in the port until the listener is added.
const NODE_WORKER_PROLOGUE = `// nibble: pthread worker, wrapped by web/wrap-glue.mjs (browsers and Node).
if (typeof process == 'object' && typeof process.versions == 'object' && process.versions.node && typeof self == 'undefined') {
  globalThis.self = globalThis;
  import('node:worker_threads').then(function (threads) {
    var port = threads.parentPort;
    globalThis.postMessage = function (message, transfer) { port.postMessage(message, transfer); };
    port.on('message', function (data) { self.onmessage({ data: data }); });
  });
}
`;

function wrapWorker(workerPath) {
  let worker = readFileSync(workerPath, 'utf8');
  const start = 'if(typeof e.data.urlOrBlob=="string"){';
  const end = `${EXPORT_NAME}(Module)`;
  const from = worker.indexOf(start);
  const to = worker.indexOf(end, from);
  if (from < 0 || to < 0) fail(`${workerPath}: the importScripts() block of the worker script was not found`);
  worker = worker.slice(0, from) +
    `import(e.data.urlOrBlob).then(function(glue){return (glue.default||glue)(Module)})` +
    worker.slice(to + end.length);
  if (worker.includes('importScripts')) fail(`${workerPath}: importScripts() is still called after the rewrite`);
  return NODE_WORKER_PROLOGUE + worker;
}

const glue = readFileSync(gluePath, 'utf8');
const tail = glue.lastIndexOf(UMD_TAIL);
if (tail < 0 || !glue.includes(`var ${EXPORT_NAME}`)) {
  fail(`not an Emscripten MODULARIZE build named ${EXPORT_NAME} (UMD tail not found)`);
}
let body = glue.slice(0, tail).trimEnd() + '\n';
const name = basename(gluePath, '.js');
const workerPath = gluePath.replace(/\.js$/, '.worker.js');
const threads = existsSync(workerPath);
if (threads) {
  body = replaceOnce(body, 'new Worker(pthreadMainJs)', 'Module["nibbleNewWorker"](pthreadMainJs)', 'pthread workers');
}

mkdirSync(distDir, { recursive: true });
// Emscripten leaves the glue's local names long; esbuild shortens them (about
// a quarter less gzipped, part of the first download's budget). Property
// names, which the glue and the wasm exports share, are left as they are.
const minified = (code, format) => transformSync(code, { minify: true, format, target: 'es2022', legalComments: 'none' }).code;
writeFileSync(join(distDir, `${name}.mjs`), minified(`${body}export default ${EXPORT_NAME};\n`, 'esm'));
writeFileSync(join(distDir, `${name}.cjs`), minified(`${body}module.exports = ${EXPORT_NAME};\n`, 'cjs'));
copyFileSync(gluePath.replace(/\.js$/, '.wasm'), join(distDir, `${name}.wasm`));
if (threads) writeFileSync(join(distDir, `${name}.worker.mjs`), wrapWorker(workerPath));
