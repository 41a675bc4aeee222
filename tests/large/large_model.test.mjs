// A model near the wasm32 limit, in Node and in Chromium: a 2.58 GiB
// random-weight Q4_0 GGUF (4.9 B parameters; written at test time by
// tests/js/model_util.cjs into a temporary folder, deleted after) loads with
// peak memory ≤ 1.25× the loaded model — malloc's high-water mark, the wasm
// memory, and the process's resident memory (Node: the process; Chromium:
// the page's renderer) — and generates. Asked for as f32 (7× larger) it
// fails first, before allocating, saying what it needs and the limit.
// Slow (minutes: writing and twice reading 2.8 GB): not part of npm test;
// run with npm run test:large (or NIBBLE_LARGE=1 npm test).
// Needs dist/ built (bash tools/build.sh). Run: node --test tests/large/
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dist, launchChromium, repo, watch } from '../browser/demo_support.mjs';
import { startServer } from '../browser/server.mjs';

const { writeRandomLlamaGguf } = createRequire(import.meta.url)('../js/model_util.cjs');

// LLaMA-7B's widths with 27 layers and a 256-token context (a small KV cache).
const SHAPE = { dim: 4096, hidden: 11008, layers: 27, heads: 32, kvHeads: 8, vocab: 32000, context: 256, seed: 7 };
const GiB = 2 ** 30;
const gib = (bytes) => `${(bytes / GiB).toFixed(2)} GiB`;
const WIDE_ERROR = /^nibble\.loadModel: the model needs 1\d\.\d\d GiB of memory to load \(1\d\.\d\d GiB held with its matrices as f32, plus \d\.\d\d GiB while converting\), but the heap is limited to 4\.00 GiB \(\d\.\d\d GiB free\); load a smaller model or a more compact weights type/;

let folder, file, size;
before(() => {
  folder = mkdtempSync(join(tmpdir(), 'nibble-large-'));
  file = join(folder, 'large.gguf');
  const t0 = Date.now();
  size = writeRandomLlamaGguf(file, SHAPE);
  console.log(`wrote ${gib(size)} (${size} bytes) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
after(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

// The peaks of one load against the model it loaded.
function assertPeaks(where, loaded) {
  const model = loaded.inUse;
  const ratios = Object.fromEntries(['mallocPeak', 'wasmMemory', 'rssPeak'].map((k) => [k, loaded[k] / model]));
  console.log(`${where}: file ${gib(size)}, model in the heap ${gib(model)}; peak / model: ` +
    Object.entries(ratios).map(([k, r]) => `${k} ${r.toFixed(3)}`).join(', '));
  assert.ok(size >= 2.5 * GiB, `the file has only ${gib(size)}`);
  assert.ok(model >= loaded.loadedBytes, `the heap holds ${model} bytes, less than the ${loaded.loadedBytes} bytes of weights`);
  for (const [k, r] of Object.entries(ratios)) assert.ok(r <= 1.25, `${where}: ${k} is ${r.toFixed(3)}× the model`);
}

test('Node: a 2.6 GiB model loads within 1.25× its size and generates', () => {
  const out = JSON.parse(execFileSync(process.execPath, [join(repo, 'tests/large/load_in_node.mjs'), file, dist], { encoding: 'utf8' }));
  console.log(`Node (${out.flavour}): load ${(out.loadMs / 1000).toFixed(1)} s, ${out.stats.tokensPerSecond.toFixed(2)} tokens/s`);
  assert.match(out.wide, WIDE_ERROR);
  assertPeaks('Node', out.loaded);
  assert.equal(out.stats.generatedTokens, 4);
});

test('Chromium: the same model from 127.0.0.1 loads within 1.25× its size and generates', async () => {
  const server = await startServer({ root: repo, mounts: { '/dist/': dist, '/scratch/': folder } });
  const browser = await launchChromium();
  try {
    const context = await browser.newContext();
    const seen = watch(context, [server.url]);
    const page = await context.newPage();
    await page.goto(new URL('/tests/browser/pages/worker.html', server.url).href);
    await page.waitForFunction(() => window.ready === true);
    const cdp = await browser.newBrowserCDPSession();
    const renderers = async () => (await cdp.send('SystemInfo.getProcessInfo')).processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
    const status = (pid) => readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (text, key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)[1]) * 1024;
    const out = await page.evaluate(async () => {
      await nibble.init();
      const wide = await nibble.loadModel('/scratch/large.gguf', { weights: 'f32' }).then((m) => { m.dispose(); return 'loaded'; }, (e) => e.message);
      window.before = { inUse: nibble._debug.heapBytesInUse(), mallocPeak: nibble._debug.heapPeakBytes() };
      return { wide, flavour: (await nibble.init()).flavour };
    });
    const pids = await renderers();
    const rssBefore = new Map(pids.map((pid) => [pid, kib(status(pid), 'VmRSS')]));
    const t0 = Date.now();
    const r = await page.evaluate(async () => {
      const d = nibble._debug;
      const model = await nibble.loadModel('/scratch/large.gguf');
      const loaded = {
        inUse: d.heapBytesInUse() - window.before.inUse,
        mallocPeak: d.heapPeakBytes() - window.before.mallocPeak,
        wasmMemory: d.wasmMemoryBytes(),
        loadedBytes: model.info.loadedBytes,
      };
      window.model = model;
      return loaded;
    });
    const loadMs = Date.now() - t0;
    // The renderer whose memory grew by the model: the page's.
    r.rssPeak = Math.max(...pids.map((pid) => kib(status(pid), 'VmHWM') - rssBefore.get(pid)));
    const { stats } = await page.evaluate(async () => {
      const result = await window.model.complete('Once upon a time', { maxTokens: 4, temperature: 0 });
      window.model.dispose();
      return result;
    });
    console.log(`Chromium (${out.flavour}): load ${(loadMs / 1000).toFixed(1)} s, ${stats.tokensPerSecond.toFixed(2)} tokens/s`);
    assert.match(out.wide, WIDE_ERROR);
    assertPeaks('Chromium', r);
    assert.equal(stats.generatedTokens, 4);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.outside, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
