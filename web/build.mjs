// Builds the JS API from the one ES module source in web/src into dist/:
//   nibble.mjs        ES module (import; browsers, bundlers, Node)
//   nibble.cjs        CommonJS (require; Node)
//   nibble.global.js  script tag: defines globalThis.nibble
//   nibble-worker.mjs the Web Worker of loadModel(source, { worker: true })
//   nibble-chat.mjs, .cjs  chat templates with @huggingface/jinja, loaded on
//                     the first applyChatTemplate / chat
//   nibble-quality.mjs, .cjs  evaluate and collectImportance, loaded on the
//                     first call of either
//   nibble-worker-client.mjs, .cjs  the page's side of the model worker,
//                     loaded by the first loadModel(source, { worker: true })
//   nibble-cache.mjs, .cjs  the model cache, loaded by the first
//                     loadModel(url, { cache: true })
//   nibble.d.ts, .d.mts, .d.cts   the types (web/index.d.ts) for each
// The wasm glue (nibble-<flavour>.{mjs,cjs,wasm}) comes from the CMake build
// (bindings/); the API loads it at run time and is built independently.
// Run: npm run build:web   (or node web/build.mjs)
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// The glue modules stay separate files, loaded on demand next to the API.
const glueIsExternal = {
  name: 'glue-is-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/nibble-[a-z-]+\.(mjs|cjs)$/ }, (args) => ({ path: args.path, external: true }));
  },
};

// Minified: the API module counts toward the first download's budget
// (bench/sizes.mjs); identifiers shortened save a third of it gzipped.
const common = {
  bundle: true,
  minify: true,
  platform: 'neutral',
  target: 'es2022',
  external: ['node:*'],
  plugins: [glueIsExternal],
  define: { __NIBBLE_VERSION__: JSON.stringify(version) },
  banner: { js: `// nibble ${version}: INT4 quantization and matmul in WebAssembly. MIT license.` },
  legalComments: 'none',
  logLevel: 'warning',
};

// The parts loaded on first use (lazy_parts.mjs), files of their own so that
// the main bundle stays within its size budget and pages that never use them
// never load them: chat templates and their renderer; the quality tools.
const parts = [
  { name: 'nibble-chat', entry: 'chat_entry.mjs', what: 'chat templates, with @huggingface/jinja (MIT license, Hugging Face)' },
  { name: 'nibble-quality', entry: 'quality_entry.mjs', what: 'quality tools (evaluate, collectImportance)' },
  { name: 'nibble-worker-client', entry: 'worker_client.mjs', what: 'client of the model worker' },
  { name: 'nibble-cache', entry: 'cache.mjs', what: 'model cache' },
];
const partBuild = ({ name, entry, what }, format) => build({
  entryPoints: [join(root, 'web/src', entry)],
  bundle: true,
  minify: true,
  platform: 'neutral',
  target: 'es2022',
  external: ['node:*'],
  format,
  outfile: join(dist, `${name}.${format === 'esm' ? 'mjs' : 'cjs'}`),
  banner: { js: `// nibble ${version} ${what}. MIT license.` },
  legalComments: 'none',
  logLevel: 'warning',
});

mkdirSync(dist, { recursive: true });
await Promise.all([
  build({ ...common, entryPoints: [join(root, 'web/src/entry_esm.mjs')], format: 'esm', outfile: join(dist, 'nibble.mjs') }),
  build({ ...common, entryPoints: [join(root, 'web/src/entry_cjs.mjs')], format: 'cjs', outfile: join(dist, 'nibble.cjs') }),
  build({
    ...common,
    entryPoints: [join(root, 'web/src/entry_global.mjs')],
    format: 'iife',
    globalName: 'nibble',
    outfile: join(dist, 'nibble.global.js'),
  }),
  build({ ...common, entryPoints: [join(root, 'web/src/worker_entry.mjs')], format: 'esm', outfile: join(dist, 'nibble-worker.mjs') }),
  ...parts.flatMap((part) => ['esm', 'cjs'].map((format) => partBuild(part, format))),
]);
for (const ext of ['d.ts', 'd.mts', 'd.cts']) copyFileSync(join(root, 'web/index.d.ts'), join(dist, `nibble.${ext}`));
