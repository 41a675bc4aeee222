// The parts of the API loaded on first use (web/src/lazy_parts.mjs: nibble-chat,
// nibble-quality, nibble-worker-client, nibble-cache): none is loaded by
// importing nibble, each loads and works in Node from the CommonJS and the
// ES module build (both checked for which part files were loaded when), and
// a missing one is named in the error; so is the SIMD build's tools module.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { model } = require('./model_util.cjs');

const DIST = path.join(__dirname, '..', '..', 'dist');
const MODEL = model('stories260K.gguf');
const PARTS = ['nibble-chat', 'nibble-quality', 'nibble-worker-client', 'nibble-cache'];

// One script, run as CommonJS and as an ES module: uses every part, prints
// which part files were loaded before and after.
const SCRIPT = `
  const { evaluate, collectImportance, loadModel } = nibble;
  const before = loaded();
  const model = await loadModel(MODEL, { cache: true, context: 64 });
  const quality = await evaluate(model, 'Once upon a time there was a little girl named Lily. She loved to play outside in the park with her friends. One day', { context: 16 });
  const imatrix = await collectImportance(model, null, { self: 32, context: 16 });
  const prompt = await model.tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }], { template: '{{ messages[0].content }}!' });
  let workerError = '';
  await loadModel(MODEL, { worker: true }).catch((e) => { workerError = e.message; });
  console.log(JSON.stringify({
    before, after: loaded(), windows: quality.windows, perplexity: quality.perplexity > 1,
    imatrix: new TextDecoder().decode(imatrix.bytes.subarray(0, 4)), prompt, workerError,
  }));
  model.dispose();
`;

// ES modules have no module cache to look at: the ES module run loads with a
// module hook (node:module register) that appends each URL it loads to a log.
function esmHook(dir) {
  const log = path.join(dir, 'loaded.log');
  fs.writeFileSync(log, '');
  fs.writeFileSync(path.join(dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';
    export async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }`);
  fs.writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';
    register(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});`);
  return { log, register: path.join(dir, 'register.mjs') };
}

// The part files among loaded file names (not the wasm builds' glue); it is
// written into the scripts, so it refers to nothing outside itself.
const notGlue = (f) => /^nibble-[a-z-]+\.(cjs|mjs)$/.test(f) && !/-simd|-scalar/.test(f);

function run(kind) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-lazy-'));
  try {
    const hook = kind === 'esm' ? esmHook(dir) : null;
    const file = kind === 'cjs'
      ? `const nibble = require(${JSON.stringify(path.join(DIST, 'nibble.cjs'))});
         const loaded = () => Object.keys(require.cache).map((f) => require('node:path').basename(f)).filter(${notGlue}).sort();
         const MODEL = ${JSON.stringify(MODEL)};
         (async () => { ${SCRIPT} })().catch((e) => { console.error(e); process.exit(1); });`
      : `import * as nibble from ${JSON.stringify(pathToFileURL(path.join(DIST, 'nibble.mjs')).href)};
         import { readFileSync } from 'node:fs';
         const loaded = () => [...new Set(readFileSync(${JSON.stringify(hook.log)}, 'utf8').split('\\n')
           .map((u) => u.split('/').pop()).filter(${notGlue}))].sort();
         const MODEL = ${JSON.stringify(MODEL)};
         ${SCRIPT}`;
    const args = hook ? ['--import', hook.register, '--input-type=module'] : ['--input-type=commonjs'];
    const out = execFileSync(process.execPath, [...args, '-e', file], { encoding: 'utf8', timeout: 60000 });
    return JSON.parse(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const WORKS = {
  windows: 2, perplexity: true, imatrix: 'GGUF', prompt: 'hi!',
  workerError: expect.stringMatching(/^nibble\.loadModel: options\.worker needs Web Workers/),
};

test('CommonJS: no part is loaded by require(), each loads on first use and works', () => {
  const r = run('cjs');
  expect(r).toMatchObject({ ...WORKS, before: [] });
  expect(r.after).toEqual(PARTS.map((p) => `${p}.cjs`).sort());
}, 60000);

test('ES module: no part is loaded by import, each loads on first use and works', () => {
  const r = run('esm');
  expect(r).toMatchObject({ ...WORKS, before: [] });
  expect(r.after).toEqual(PARTS.map((p) => `${p}.mjs`).sort());
}, 60000);

test('a part missing beside the API: the error names its file, and a retry after it is back works', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-parts-'));
  try {
    for (const f of fs.readdirSync(DIST)) {
      if (/^nibble(-simd)?\.(cjs|wasm)$/.test(f)) fs.copyFileSync(path.join(DIST, f), path.join(dir, f));
    }
    // In a plain node: Jest's require() would remember the failed lookup.
    const script = `
      const fs = require('node:fs');
      const nibble = require(${JSON.stringify(path.join(dir, 'nibble.cjs'))});
      (async () => {
        const m = await nibble.loadModel(${JSON.stringify(MODEL)}, { context: 32 });
        const messages = [];
        await nibble.evaluate(m, [1, 2, 3], { context: 2 }).catch((e) => messages.push(e.message));
        await m.tokenizer.applyChatTemplate([{ role: 'user', content: 'x' }], { template: 'x' }).catch((e) => messages.push(e.message));
        fs.copyFileSync(${JSON.stringify(path.join(DIST, 'nibble-quality.cjs'))}, ${JSON.stringify(path.join(dir, 'nibble-quality.cjs'))});
        const again = await nibble.evaluate(m, [1, 2, 3, 4], { context: 4 });
        // The SIMD build's tools module (wasm), missing, then back.
        await nibble.collectImportance(m, null, { self: 8, context: 8 }).catch((e) => messages.push(e.message));
        for (const f of ['nibble-simd-tools.cjs', 'nibble-simd-tools.wasm']) {
          fs.copyFileSync(require('node:path').join(${JSON.stringify(DIST)}, f), require('node:path').join(${JSON.stringify(dir)}, f));
        }
        const imatrix = await nibble.collectImportance(m, null, { self: 8, context: 8 });
        console.log(JSON.stringify({ messages, windows: again.windows, imatrixWindows: imatrix.windows }));
        m.dispose();
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 }));
    expect(r.messages).toEqual([
      expect.stringMatching(/^nibble\.evaluate: could not load nibble-quality, the quality tools \(evaluate, collectImportance, quantizeCalibrated\) \(.*nibble-quality\.cjs.*\); serve it next to the nibble JS files$/s),
      expect.stringMatching(/^nibble\.Tokenizer\.applyChatTemplate: could not load nibble-chat, the chat-template renderer \(.*nibble-chat\.cjs.*\); serve it next to the nibble JS files$/s),
      expect.stringMatching(/^nibble\.collectImportance: could not load nibble-simd-tools, the quantize tools \(collectImportance, quantizeCalibrated\) \(.*nibble-simd-tools\.(cjs|wasm).*\); serve it next to the nibble JS files$/s),
    ]);
    expect(r.windows).toBe(1);
    expect(r.imatrixWindows).toBe(1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60000);
