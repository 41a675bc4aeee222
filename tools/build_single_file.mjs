// Builds the demo as ONE self-contained HTML file that runs from disk
// (file://, no server, no network): the demo page (demo/), its CSS, the JS
// API, the wasm (base64) and a model (base64) all inline.
//
//   node tools/build_single_file.mjs [--model models/stories260K.gguf]
//        [-o dist/nibble-demo.html] [--dist dist] [--web web/src] [--scalar]
//   --dist: the folder with the wasm builds; --web: the JS API sources.
//
// Chromium cannot fetch a .wasm (nor start a module worker) from file://, so
// in this file the model runs on the page (worker: false; generation yields
// to the event loop after every token, so the page stays responsive), and
// the wasm bytes are handed to the loader by a fetch() stand-in for exactly
// the URL it asks for. The SIMD build embedded is its tools module
// (nibble-simd-tools: the engine plus the quantize tools). --scalar also embeds the no-SIMD build (+0.4 MB) for
// engines without WebAssembly SIMD.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const args = { model: join(repo, 'models/stories260K.gguf'), out: join(repo, 'dist/nibble-demo.html'), dist: join(repo, 'dist'), web: join(repo, 'web/src'), scalar: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--model') args.model = resolve(argv[++i]);
    else if (a === '-o' || a === '--out') args.out = resolve(argv[++i]);
    else if (a === '--dist') args.dist = resolve(argv[++i]);
    else if (a === '--web') args.web = resolve(argv[++i]);
    else if (a === '--scalar') args.scalar = true;
    else {
      console.error('usage: node tools/build_single_file.mjs [--model <file.gguf>] [-o <out.html>] [--dist <dist folder>] [--web <API sources>] [--scalar]');
      process.exit(2);
    }
  }
  return args;
}

function readOrExplain(path, what) {
  if (!existsSync(path)) {
    console.error(`build_single_file: ${what} ${path} is missing; run bash tools/build.sh first`);
    process.exit(1);
  }
  return readFileSync(path);
}

// The module that runs before demo.mjs: a platform serving the embedded
// glue and wasm, and the demo's configuration (embedded model, no worker).
function setupSource({ flavours, modelName, modelDetail }) {
  const glueImports = flavours.map((f, i) => `import glue${i} from 'embedded-glue:${f}';`).join('\n');
  const glueTable = flavours.map((f, i) => `'${f}': glue${i}`).join(', ');
  return `
import { setPlatform } from 'nibble-src:runtime.mjs';
import { WASM, MODEL } from 'embedded-bytes';
${glueImports}

const glues = { ${glueTable} };
const bytesOf = (base64) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
const dir = new URL('./', location.href).href;

setPlatform({
  async importGlue(flavour) {
    if (!glues[flavour]) throw new Error('this single-file page embeds only the ' + Object.keys(glues).join(' and ') + ' wasm build');
    return glues[flavour];
  },
  // The lazily loaded parts (chat templates: a dropped model may have one):
  // bundled in, not files beside.
  importChat: () => import('nibble-src:chat_entry.mjs'),
  importQuality: () => import('nibble-src:quality_entry.mjs'),
  importWorkerClient: () => import('nibble-src:worker_client.mjs'),
  importCache: () => import('nibble-src:cache.mjs'),
  defaultDir: () => dir,
  node: async () => null,
  flavours: Object.keys(glues),
});

// The loader fetches <dir>nibble-<flavour>.wasm: answer from the embedded bytes.
const wasmUrls = new Map(Object.keys(WASM).map((f) => [dir + 'nibble-' + f + '.wasm', f]));
const pageFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const flavour = wasmUrls.get(typeof input === 'string' ? input : input?.url ?? String(input));
  if (flavour === undefined) return pageFetch(input, init);
  return Promise.resolve(new Response(bytesOf(WASM[flavour]), { headers: { 'Content-Type': 'application/wasm' } }));
};

let model = null;
globalThis.nibbleDemoConfig = {
  worker: false,
  bundled: { name: ${JSON.stringify(modelName)}, detail: ${JSON.stringify(modelDetail)}, bytes: () => (model ??= bytesOf(MODEL)) },
};
`;
}

// The files embedded for a flavour: the SIMD build's tools module, which is
// the whole engine plus the quantize tools (the Quantize panel's
// quantizeCalibrated), so one wasm serves every panel; the scalar build
// carries the tools itself.
const fileOf = (flavour) => (flavour === 'simd' ? 'simd-tools' : flavour);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const flavours = args.scalar ? ['simd', 'scalar'] : ['simd'];
  const wasm = Object.fromEntries(flavours.map((f) => [f, readOrExplain(join(args.dist, `nibble-${fileOf(f)}.wasm`), 'the wasm build').toString('base64')]));
  for (const f of flavours) readOrExplain(join(args.dist, `nibble-${fileOf(f)}.mjs`), 'the wasm glue');
  const model = readOrExplain(args.model, 'the model');
  const modelName = basename(args.model).replace(/\.gguf$/i, '');
  const modelDetail = `embedded · ${(statSync(args.model).size / 1e6).toFixed(1)} MB GGUF`;
  const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

  // demo.mjs imports './nibble/nibble.mjs': the API sources; the setup module
  // goes first so its platform and config exist when demo.mjs runs.
  const embed = {
    name: 'embed',
    setup(b) {
      b.onResolve({ filter: /^\.\/nibble\/nibble\.mjs$/ }, () => ({ path: join(args.web, 'nibble.mjs') }));
      b.onResolve({ filter: /^nibble-src:/ }, (a) => ({ path: join(args.web, a.path.slice('nibble-src:'.length)) }));
      b.onResolve({ filter: /^embedded-glue:/ }, (a) => ({ path: join(args.dist, `nibble-${fileOf(a.path.slice('embedded-glue:'.length))}.mjs`) }));
      b.onResolve({ filter: /^embedded-bytes$/ }, () => ({ path: 'embedded-bytes', namespace: 'embedded' }));
      b.onLoad({ filter: /.*/, namespace: 'embedded' }, () => ({
        contents: `export const WASM = ${JSON.stringify(wasm)};\nexport const MODEL = ${JSON.stringify(model.toString('base64'))};\n`,
        loader: 'js',
      }));
      b.onResolve({ filter: /^demo-setup$/ }, () => ({ path: 'demo-setup', namespace: 'setup' }));
      b.onLoad({ filter: /.*/, namespace: 'setup' }, () => ({ contents: setupSource({ flavours, modelName, modelDetail }), loader: 'js', resolveDir: repo }));
    },
  };
  const bundled = await build({
    stdin: { contents: `import 'demo-setup';\nimport './demo/demo.mjs';\n`, resolveDir: repo, loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    external: ['node:*'],
    plugins: [embed],
    define: { __NIBBLE_VERSION__: JSON.stringify(version) },
    legalComments: 'none',
    logLevel: 'warning',
  });
  // "</script" inside the code would end the inline script early.
  const js = bundled.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1');
  const css = readFileSync(join(repo, 'demo/demo.css'), 'utf8');

  let html = readFileSync(join(repo, 'demo/index.html'), 'utf8');
  const swap = (from, to) => {
    if (!html.includes(from)) throw new Error(`demo/index.html no longer contains ${from}`);
    html = html.replace(from, () => to);
  };
  swap('<link rel="stylesheet" href="demo.css">', `<style>\n${css}</style>`);
  swap('<script type="module" src="demo.mjs"></script>', `<script type="module">${js}</script>`);
  swap('<title>nibble — ', '<title>nibble (single file) — ');

  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, html);
  console.log(`${args.out}: ${(Buffer.byteLength(html) / 1e6).toFixed(2)} MB (wasm: ${flavours.join(' + ')}; model: ${basename(args.model)}); open it from disk, no server needed`);
}

await main();
