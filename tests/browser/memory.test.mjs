// Memory in Chromium over a page's life:
// - soak: 200 load → generate → dispose cycles of stories260K, alternating
//   an abort mid-load and an abort mid-generation; the wasm heap (bytes
//   malloc holds, and the size of the wasm memory) and the JS heap (the JS
//   values of a heap snapshot, taken after a garbage collection) end within
//   1 % of where they started;
// - a model larger than the 4 GB wasm heap (a 5 GB file, sparse on disk)
//   fails before anything is allocated, with an error that says what it
//   needs and what the limit is, and the page keeps working: a smaller
//   model loads and generates next.
// Needs dist/ built (bash tools/build.sh). Run: node --test tests/browser/memory.test.mjs
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer } from './server.mjs';
import { dist, launchChromium, repo, withReadyPage } from './demo_support.mjs';

const { TOO_LARGE_FOR_WASM, writeRandomLlamaGguf } = createRequire(import.meta.url)('../js/model_util.cjs');

const PAGE = '/tests/browser/pages/worker.html'; // window.nibble, the ES module build
const MODEL = '/models/stories260K.gguf';

let server, browser, folder;
before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'nibble-memory-'));
  writeRandomLlamaGguf(join(folder, 'too-large.gguf'), TOO_LARGE_FOR_WASM, { sparse: true });
  server = await startServer({ root: repo, mounts: { '/dist/': dist, '/scratch/': folder } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

function withPage(fn) {
  return withReadyPage(browser, new URL(PAGE, server.url).href, [server.url], fn);
}

// `cycles` cycles in the page; cycle i aborts its load (i even) or its
// generation (i odd) and then loads, generates and disposes in full. The
// model's bytes are fetched once: every fetch leaves a record in the
// browser (resource timing, and DevTools' network log while a test drives
// the page) that would count as JS heap growth.
function runCycles(page, first, cycles) {
  return page.evaluate(async ({ url, first, cycles }) => {
    window.modelBytes ??= new Uint8Array(await (await fetch(url)).arrayBuffer());
    const bytes = window.modelBytes;
    const counts = { abortedLoads: 0, abortedGenerations: 0, completed: 0, unexpected: [] };
    for (let i = first; i < first + cycles; i++) {
      if (i % 2 === 0) {
        const controller = new AbortController();
        const error = await nibble.loadModel(bytes, {
          signal: controller.signal,
          onProgress: (e) => { if (e.fraction > 0.3) controller.abort(); },
        }).then((m) => { m.dispose(); return null; }, (e) => e.name);
        if (error === 'AbortError') counts.abortedLoads++;
        else counts.unexpected.push(`cycle ${i}: the load ended with ${error}`);
      }
      const model = await nibble.loadModel(bytes);
      const controller = new AbortController();
      const abortAt = i % 2 === 1 ? 5 : -1;
      let pieces = 0;
      const run = model.generate('Once upon a time', { maxTokens: 30, temperature: 0.8, seed: i, signal: controller.signal });
      for await (const piece of run) if (++pieces === abortAt) controller.abort();
      const stats = await run.stats;
      if (abortAt > 0 && stats.stopReason === 'abort') counts.abortedGenerations++;
      else if (abortAt < 0 && stats.generatedTokens > 0) counts.completed++;
      else counts.unexpected.push(`cycle ${i}: ${JSON.stringify(stats)}`);
      model.dispose();
    }
    return counts;
  }, { url: MODEL, first, cycles });
}

// The JS values of a heap snapshot (objects, closures, arrays, strings,
// numbers ...): what the page's code can hold. Left out: the engine's
// compiled code (V8 compiles wasm and JS functions lazily and tiers them up
// as they run, so it grows for a while) and Blink's performance-timeline
// buffers (capped).
const JS_VALUES = new Set(['object', 'closure', 'array', 'string', 'concatenated string', 'sliced string', 'regexp', 'number', 'bigint', 'symbol']);
async function jsValueBytes(cdp) {
  const chunks = [];
  const onChunk = (e) => chunks.push(e.chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }); // collects garbage first
  cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  const { snapshot: { meta }, nodes } = JSON.parse(chunks.join(''));
  const fields = meta.node_fields.length, type = meta.node_fields.indexOf('type'), self = meta.node_fields.indexOf('self_size');
  const typeNames = meta.node_types[0];
  let bytes = 0;
  for (let i = 0; i < nodes.length; i += fields) if (JS_VALUES.has(typeNames[nodes[i + type]])) bytes += nodes[i + self];
  return bytes;
}

// wasm: malloc's bytes in use and the memory's size; js: the JS values on
// the page's heap; jsHeap: V8's whole heap after a collection (compiled
// code included; reported, not judged).
async function heaps(page, cdp) {
  const js = await jsValueBytes(cdp);
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const wasm = await page.evaluate(() => ({ inUse: nibble._debug.heapBytesInUse(), memory: nibble._debug.wasmMemoryBytes() }));
  return { wasmInUse: wasm.inUse, wasmMemory: wasm.memory, js, jsHeap: usedSize };
}

test('soak: 200 load / generate / dispose cycles with aborts leave the wasm and JS heaps where they were', async () => {
  const t0 = Date.now();
  const r = await withPage(async (page) => {
    const cdp = await page.context().newCDPSession(page);
    // Ten cycles first: the wasm module and the JIT settle into what every
    // later cycle reuses.
    await runCycles(page, 0, 10);
    const start = await heaps(page, cdp);
    const counts = await runCycles(page, 10, 200);
    const end = await heaps(page, cdp);
    return { start, end, counts };
  });
  const seconds = (Date.now() - t0) / 1000;
  console.log(`soak: ${JSON.stringify(r.counts)} in ${seconds.toFixed(1)} s; start ${JSON.stringify(r.start)}, end ${JSON.stringify(r.end)}`);
  assert.deepEqual(r.counts, { abortedLoads: 100, abortedGenerations: 100, completed: 100, unexpected: [] });
  for (const key of ['wasmInUse', 'wasmMemory', 'js']) {
    const growth = (r.end[key] - r.start[key]) / r.start[key];
    assert.ok(growth <= 0.01, `${key} grew ${(100 * growth).toFixed(2)} %: ${r.start[key]} -> ${r.end[key]} bytes`);
  }
});

test('a model over the 4 GB wasm heap fails before allocating, saying its size and the limit; a smaller one loads next', async () => {
  const r = await withPage((page) => page.evaluate(async (url) => {
    // A first load sets up what every load shares (tables made on first use).
    (await nibble.loadModel(url)).dispose();
    const before = { inUse: nibble._debug.heapBytesInUse(), memory: nibble._debug.wasmMemoryBytes() };
    const error = await nibble.loadModel('/scratch/too-large.gguf').then((m) => { m.dispose(); return 'loaded'; }, (e) => `${e.name}: ${e.message}`);
    const afterFailure = { inUse: nibble._debug.heapBytesInUse(), memory: nibble._debug.wasmMemoryBytes() };
    const model = await nibble.loadModel(url);
    const { stats } = await model.complete('Once upon a time', { maxTokens: 20, temperature: 0 });
    model.dispose();
    return { before, error, afterFailure, stats };
  }, MODEL));
  assert.match(r.error, /^Error: nibble\.loadModel: the model needs 5\.\d\d GiB of memory to load \(5\.\d\d GiB held with its matrices as q4_0, plus 0\.\d\d GiB while converting\), but the heap is limited to 4\.00 GiB \(\d\.\d\d GiB free\); load a smaller model or a more compact weights type \(http:\/\/127\.0\.0\.1:\d+\/scratch\/too-large\.gguf\)$/);
  assert.equal(r.afterFailure.inUse, r.before.inUse);
  // Only the header was read (a staging slice of ≤ 1 MiB and the header's bytes).
  assert.ok(r.afterFailure.memory - r.before.memory <= 8 << 20, `the wasm memory grew from ${r.before.memory} to ${r.afterFailure.memory} bytes`);
  assert.equal(r.stats.generatedTokens, 20);
});
