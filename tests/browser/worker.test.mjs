// loadModel(source, { worker: true }) in Chromium: the model runs in a Web
// Worker behind Model's API. Greedy text equals the reference; the page never
// loads the wasm; logits (F32) match stories260K.logits.json and leave the
// next generation as it was; requestAnimationFrame keeps firing during
// generation; abort (signal, break) stops it; errors come back as the same
// classes with the same messages as in-thread; progress is forwarded;
// dispose() ends the worker.
// Needs dist/ built (bash tools/build.sh). Run: node --test tests/browser/worker.test.mjs
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer } from './server.mjs';
import { dist, launchChromium, referenceStory, repo, withReadyPage } from './demo_support.mjs';

const { compareLogits, logitsFailures } = createRequire(import.meta.url)('../js/model_reference.cjs');

const PAGE = '/tests/browser/pages/worker.html';
const PAGE_GLOBAL = '/tests/browser/pages/worker-global.html';
const MODEL = '/models/stories260K.gguf';

let server, browser;
before(async () => {
  server = await startServer({ root: repo, mounts: { '/dist/': dist } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

// Runs fn(page) on a fresh page where window.nibble is the ES module build
// (or the script-tag build, with page = PAGE_GLOBAL).
function withPage(fn, page_ = PAGE) {
  return withReadyPage(browser, new URL(page_, server.url).href, [server.url], fn);
}

test('a worker model generates the reference story; tokenize/detokenize/logits/toGguf answer; the page never loads the wasm', async () => {
  const ref = referenceStory(0);
  const r = await withPage(async (page) => {
    const out = await page.evaluate(async ({ url, prompt, maxTokens }) => {
      const model = await nibble.loadModel(url, { worker: true, weights: 'f32' });
      const run = model.generate(prompt, { temperature: 0, maxTokens });
      let text = '';
      for await (const piece of run) text += piece;
      const ids = await model.tokenize(prompt);
      const gguf = await model.toGguf();
      const reference = await (await fetch('/models/stories260K.logits.json')).json();
      const logits = await model.logits(reference.positions.map((p) => p.input_token), { precision: 'w4a32' });
      const result = {
        text,
        logits: { tag: Object.prototype.toString.call(logits), values: Array.from(logits) },
        again: (await model.complete(prompt, { temperature: 0, maxTokens })).text,
        stats: await run.stats,
        ids,
        back: await model.detokenize(ids),
        gguf: { magic: String.fromCharCode(...gguf.subarray(0, 4)), bytes: gguf.byteLength },
        runtime: model.runtime,
        weightType: model.info.weightType,
        infoFrozen: Object.isFrozen(model.info) && Object.isFrozen(model.info.config),
        tag: Object.prototype.toString.call(model),
        wasmOnPage: performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\.wasm$/.test(n)),
      };
      return result; // the model stays loaded: its worker is counted below
    }, { url: MODEL, prompt: ref.prompt, maxTokens: ref.maxTokens });
    out.workers = page.workers().length;
    return out;
  });
  assert.equal(ref.prompt + r.text, ref.text);
  assert.equal(r.again, r.text);
  assert.equal(r.logits.tag, '[object Float32Array]');
  const logitsReference = JSON.parse(readFileSync(join(repo, 'models/stories260K.logits.json'), 'utf8'));
  assert.deepEqual(logitsFailures(compareLogits(Float32Array.from(r.logits.values), 512, logitsReference), { maxDiff: 1e-4 }), []);
  assert.equal(r.stats.generatedTokens, ref.maxTokens);
  assert.equal(r.stats.promptTokens, ref.promptIds.length);
  assert.equal(r.stats.stopReason, 'max_tokens');
  assert.ok(r.stats.tokensPerSecond > 0);
  assert.deepEqual(r.ids, ref.promptIds);
  assert.equal(r.back, ref.prompt);
  assert.equal(r.gguf.magic, 'GGUF');
  assert.equal(r.runtime.worker, true);
  assert.equal(r.runtime.simd, true);
  assert.equal(r.weightType, 'f32');
  assert.equal(r.infoFrozen, true);
  assert.equal(r.tag, '[object Model]');
  assert.equal(r.workers, 1);
  assert.deepEqual(r.wasmOnPage, [], 'the page itself fetched a .wasm');
});

test('the page keeps painting during generation: requestAnimationFrame fires ≥ 10 times per second', async () => {
  const r = await withPage((page) => page.evaluate(async (url) => {
    const model = await nibble.loadModel(url, { worker: true });
    let frames = 0, last = 0, maxGap = 0, counting = true;
    const tick = (t) => {
      if (last) maxGap = Math.max(maxGap, t - last);
      last = t;
      frames++;
      if (counting) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    const t0 = performance.now();
    let tokens = 0, generateMs = 0, runs = 0;
    // At least a second of generation (stories often end early: several runs).
    while (generateMs < 1200 && performance.now() - t0 < 20000) {
      const run = model.generate('Once upon a time', { maxTokens: 1500, temperature: 0.8, seed: runs++ });
      for await (const piece of run) tokens += piece.length > 0 ? 1 : 0;
      generateMs += (await run.stats).generateMs;
    }
    counting = false;
    const seconds = (performance.now() - t0) / 1000;
    model.dispose();
    return { frames, seconds, tokens, generateMs, maxGap, runs };
  }, MODEL));
  const perSecond = r.frames / r.seconds;
  const what = `${r.frames} frames in ${r.seconds.toFixed(2)} s (${perSecond.toFixed(1)}/s, longest gap ${r.maxGap.toFixed(0)} ms) while ${r.tokens} pieces were generated in ${r.runs} runs (${r.generateMs.toFixed(0)} ms of generation)`;
  console.log(what);
  assert.ok(r.generateMs > 1000, `too little generation to judge: ${what}`);
  assert.ok(perSecond >= 10, what);
});

test('abort: a signal or a break stops the generation (stopReason abort); the model stays usable', async () => {
  const r = await withPage((page) => page.evaluate(async (url) => {
    const model = await nibble.loadModel(url, { worker: true });
    const controller = new AbortController();
    const run = model.generate('Once upon a time', { maxTokens: 2000, temperature: 0.8, seed: 3, signal: controller.signal });
    let signalled = 0;
    for await (const piece of run) if (++signalled === 10) controller.abort();
    const aborted = await run.stats;

    const run2 = model.generate('Once upon a time', { maxTokens: 2000, temperature: 0.8, seed: 4, signal: undefined });
    let broken = 0;
    for await (const piece of run2) if (++broken === 10) break;
    const afterBreak = await run2.stats;

    const run3 = model.generate('Once upon a time', { signal: AbortSignal.abort() });
    let early = 0;
    for await (const piece of run3) early++;
    const preAborted = await run3.stats;

    const next = await model.complete('Lily wanted to', { maxTokens: 10, temperature: 0 });
    model.dispose();
    return { signalled, aborted, broken, afterBreak, early, preAborted, next: next.stats };
  }, MODEL));
  assert.equal(r.aborted.stopReason, 'abort');
  assert.ok(r.aborted.generatedTokens >= 10 && r.aborted.generatedTokens < 2000, `generated ${r.aborted.generatedTokens}`);
  assert.ok(r.signalled < 2000, `${r.signalled} pieces arrived`);
  assert.equal(r.broken, 10);
  assert.equal(r.afterBreak.stopReason, 'abort');
  assert.ok(r.afterBreak.generatedTokens < 2000);
  assert.equal(r.early, 0);
  assert.equal(r.preAborted.stopReason, 'abort');
  assert.equal(r.preAborted.generatedTokens, 0);
  assert.equal(r.next.stopReason, 'max_tokens');
  assert.equal(r.next.generatedTokens, 10);
});

test('errors from the worker are the same classes with the same messages as in-thread', async () => {
  const r = await withPage((page) => page.evaluate(async (url) => {
    const describe = (e) => ({ ctor: e?.constructor?.name, name: e?.name, message: e?.message });
    const attempt = async (fn) => {
      try {
        await fn();
        return 'no error';
      } catch (e) {
        return describe(e);
      }
    };
    const both = async (fn) => [await attempt(() => fn(false)), await attempt(() => fn(true))];
    const out = {};
    out.notGguf = await both((worker) => nibble.loadModel(new Uint8Array(64), { worker }));
    out.missing = await both((worker) => nibble.loadModel('/models/missing.gguf', { worker }));
    out.badWeights = await both((worker) => nibble.loadModel(url, { worker, weights: 'q9' }));
    const models = [await nibble.loadModel(url), await nibble.loadModel(url, { worker: true })];
    const each = (fn) => Promise.all(models.map((m) => attempt(() => fn(m))));
    out.topP = await each(async (m) => {
      for await (const piece of m.generate('Once', { topP: 2 })) { /* never */ }
    });
    out.badSignal = await each(async (m) => {
      for await (const piece of m.generate('Once', { signal: 'stop' })) { /* never */ }
    });
    out.tokenize = await each((m) => m.tokenize(42));
    out.detokenize = await each((m) => m.detokenize([99999]));
    out.logitsEmpty = await each((m) => m.logits([]));
    out.logitsOption = await each((m) => m.logits([1], { batch: 0 }));
    out.longPrompt = await each(async (m) => {
      for await (const piece of m.generate(new Array(3000).fill(5))) { /* never */ }
    });
    for (const m of models) m.dispose();
    out.disposed = await each((m) => m.tokenize('Once'));
    out.disposedGenerate = models.map((m) => {
      try {
        m.generate('Once');
        return 'no error';
      } catch (e) {
        return describe(e);
      }
    });
    const reason = new Error('my reason');
    const controller = new AbortController();
    const loading = nibble.loadModel(url, { worker: true, signal: controller.signal });
    controller.abort(reason);
    out.sameReason = await loading.then(() => false, (e) => e === reason);
    return out;
  }, MODEL));
  for (const [what, [inThread, inWorker]] of Object.entries(r).filter(([k]) => k !== 'sameReason')) {
    assert.notEqual(inThread, 'no error', `${what}: no error in-thread`);
    assert.deepEqual(inWorker, inThread, `${what}: the worker's error differs`);
  }
  assert.equal(r.tokenize[1].ctor, 'TypeError');
  assert.equal(r.topP[1].ctor, 'RangeError');
  assert.equal(r.logitsEmpty[1].ctor, 'RangeError');
  assert.match(r.logitsOption[1].message, /^nibble\.Model\.logits: options\.batch must be an integer/);
  assert.match(r.missing[1].message, /HTTP 404/);
  assert.match(r.disposed[1].message, /disposed/);
  assert.equal(r.sameReason, true, 'an aborted load rejects with the signal\'s reason');
});

test('progress events come from the worker in order, ending at ready 100 %; an abort during the load rejects with AbortError', async () => {
  const r = await withPage((page) => page.evaluate(async (url) => {
    const events = [];
    const model = await nibble.loadModel(url, { worker: true, onProgress: (e) => events.push(e) });
    model.dispose();
    const controller = new AbortController();
    const error = await nibble.loadModel(url, { worker: true, signal: controller.signal, onProgress: () => controller.abort() })
      .then(() => null, (e) => ({ ctor: e.constructor.name, name: e.name }));
    return { events, error };
  }, MODEL));
  const { events } = r;
  assert.ok(events.length >= 2, `${events.length} events`);
  assert.equal(events[0].status, 'download');
  assert.deepEqual(events.at(-1), { status: 'ready', loaded: events.at(-1).total, total: events.at(-1).total, fraction: 1 });
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i].fraction >= events[i - 1].fraction, `progress went back at event ${i}: ${JSON.stringify(events.slice(i - 1, i + 1))}`);
  }
  assert.deepEqual(r.error, { ctor: 'DOMException', name: 'AbortError' });
});

test('dispose() terminates the worker: a running generation and later calls fail with the disposed message', async () => {
  const r = await withPage(async (page) => {
    await page.evaluate(async (url) => {
      window.model = await nibble.loadModel(url, { worker: true });
    }, MODEL);
    const workersBefore = page.workers().length;
    const closed = new Promise((resolve) => page.workers()[0].once('close', resolve));
    const out = await page.evaluate(async () => {
      const describe = (e) => ({ ctor: e?.constructor?.name, message: e?.message });
      const run = window.model.generate('Once upon a time', { maxTokens: 2000 });
      let pieces = 0, error = null;
      try {
        for await (const piece of run) if (++pieces === 5) window.model.dispose();
      } catch (e) {
        error = describe(e);
      }
      const stats = await run.stats.then(() => 'resolved', describe);
      const tokenize = await window.model.tokenize('Once').then(() => 'resolved', describe);
      window.model.dispose(); // a second call does nothing
      return { error, stats, tokenize, disposed: window.model.disposed };
    });
    await closed;
    return { ...out, workersBefore, workersAfter: page.workers().length };
  });
  assert.equal(r.workersBefore, 1);
  assert.equal(r.workersAfter, 0);
  assert.equal(r.disposed, true);
  assert.deepEqual(r.error, { ctor: 'Error', message: 'nibble.Model.generate: this Model was disposed; use it only before calling dispose()' });
  assert.deepEqual(r.stats, r.error);
  assert.deepEqual(r.tokenize, { ctor: 'Error', message: 'nibble.Model.tokenize: this Model was disposed; use it only before calling dispose()' });
});

test('the script-tag build starts the same worker from beside its script', async () => {
  const ref = referenceStory(1);
  const r = await withPage((page) => page.evaluate(async ({ url, prompt, maxTokens }) => {
    const model = await nibble.loadModel(url, { worker: true, weights: 'f32' });
    const { text } = await model.complete(prompt, { temperature: 0, maxTokens });
    const runtime = model.runtime;
    model.dispose();
    return { text, runtime, wasmOnPage: performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\.wasm$/.test(n)) };
  }, { url: MODEL, prompt: ref.prompt, maxTokens: ref.maxTokens }), PAGE_GLOBAL);
  assert.equal(ref.prompt + r.text, ref.text);
  assert.equal(r.runtime.worker, true);
  assert.match(r.runtime.wasmUrl, new RegExp(`^${server.url}dist/nibble-simd-relaxed\\.wasm$`));
  assert.deepEqual(r.wasmOnPage, []);
});

test('through the worker: model.tokenizer (facts at once, calls as Promises) and a two-turn chat reusing the cache, as on the page', async () => {
  const { randomLlamaGguf } = createRequire(import.meta.url)('../js/model_util.cjs');
  const bytes = Array.from(randomLlamaGguf({
    dim: 64, hidden: 128, layers: 2, heads: 4, kvHeads: 2, vocab: 700, context: 512, seed: 3,
    control: ['<|im_start|>', '<|im_end|>'],
    metadata: {
      'tokenizer.chat_template': '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}' +
        '{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}',
    },
  }));
  const r = await withPage((page) => page.evaluate(async (fileBytes) => {
    const turns = async (model) => {
      const messages = [{ role: 'user', content: 'Hello there' }];
      const out = [];
      for (const next of ['And you?', null]) {
        const run = model.chat(messages, { temperature: 0, maxTokens: 8 });
        let text = '';
        for await (const piece of run) text += piece;
        out.push({ text, stats: await run.stats });
        if (next) messages.push({ role: 'assistant', content: text }, { role: 'user', content: next });
      }
      return out;
    };
    const file = new Uint8Array(fileBytes);
    const worker = await nibble.loadModel(file, { worker: true });
    const local = await nibble.loadModel(file);
    const tok = worker.tokenizer;
    const result = {
      facts: { vocabSize: tok.vocabSize, bos: tok.bos, template: tok.chatTemplate === local.tokenizer.chatTemplate, eog: tok.endOfGeneration },
      localEog: local.tokenizer.endOfGeneration,
      encoded: await tok.encode('<|im_start|>user', { parseSpecial: true }),
      localEncoded: local.tokenizer.encode('<|im_start|>user', { parseSpecial: true }),
      piece: await tok.tokenToPiece(259),
      rendered: await tok.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true }),
      worker: await turns(worker),
      local: await turns(local),
    };
    worker.dispose();
    local.dispose();
    result.afterDispose = await tok.encode('x').then(() => 'resolved', (e) => e.message);
    return result;
  }, bytes));
  assert.equal(r.facts.vocabSize, 700);
  assert.equal(r.facts.template, true);
  assert.deepEqual(r.facts.eog, r.localEog);
  assert.deepEqual(r.encoded, r.localEncoded);
  assert.equal(r.piece, '<|im_start|>');
  assert.equal(r.rendered, '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  assert.deepEqual(r.worker.map((t) => t.text), r.local.map((t) => t.text));
  assert.equal(r.worker[0].stats.cachedTokens, 0);
  assert.ok(r.worker[1].stats.cachedTokens >= r.worker[0].stats.promptTokens, JSON.stringify(r.worker.map((t) => t.stats)));
  assert.equal(r.worker[1].stats.cachedTokens, r.local[1].stats.cachedTokens);
  assert.match(r.afterDispose, /this Model was disposed/);
});
