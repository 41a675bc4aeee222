// The browser suite's core cases in Firefox (Debian's firefox-esr, driven by
// puppeteer-core over WebDriver BiDi): the ES module and the script-tag
// builds give the plain-JS reference results; the golden generation
// (stories260K: llama2.c's text, logits, INT4 KL); a model in a Web Worker;
// the threads build on a cross-origin-isolated page and the one-warning
// fallback without isolation; the single-file page from file://; the demo
// (relaxed SIMD, one thread per core up to 8, in a worker), with a screenshot
// (test-results/demo-firefox.png). On every page the build the loader
// picks is the most capable one this engine validates, and nothing is
// logged as an error or requested outside 127.0.0.1.
// Needs dist/ built (bash tools/build.sh). Run: node --test tests/browser/firefox/
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startDemoServer } from '../../../demo/serve.mjs';
import { dist, generateInNode, referenceStory, repo } from '../demo_support.mjs';
import { startServer } from '../server.mjs';
import { launchFirefox, watchPage } from './firefox.mjs';

// What Firefox ESR 153 runs (the claim, checked below against what
// the engine validates): relaxed SIMD.
const PICK = 'simd-relaxed';

let server, coiServer, demoServer, browser, singleFolder;
before(async () => {
  server = await startServer({ root: repo, mounts: { '/dist/': dist } });
  coiServer = await startServer({ root: repo, mounts: { '/dist/': dist }, crossOriginIsolated: true });
  demoServer = await startDemoServer({ dist });
  browser = await launchFirefox();
});
after(async () => {
  await browser?.close();
  await Promise.all([server?.close(), coiServer?.close(), demoServer?.close()]);
  if (singleFolder) rmSync(singleFolder, { recursive: true, force: true });
});

// Runs fn(page, seen) on a fresh page at url, then checks that nothing was
// logged as an error and nothing requested from outside `allowed` (data:
// URLs, such as the demo's empty icon, never leave the page; Firefox
// reports them as requests, Chromium does not).
async function withPage(url, fn, allowed = [new URL(url).origin + '/']) {
  const page = await browser.newPage();
  const seen = watchPage(page, [...allowed, 'data:']);
  try {
    await page.goto(url);
    const out = await fn(page, seen);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.outside, []);
    return out;
  } catch (e) {
    e.message += `\n${url}\nconsole:\n${seen.console.join('\n')}\nerrors:\n${seen.errors.join('\n')}`;
    throw e;
  } finally {
    await page.close();
  }
}

// window.result once the page sets it.
async function pageResult(page, timeout = 60000) {
  await page.waitForFunction(() => window.result !== undefined, { timeout });
  return page.evaluate(() => window.result);
}

// The single-thread builds this engine validates, most capable first: the
// loader's pick must be the first of them.
async function validatingFlavours(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const flavour of ['simd-relaxed', 'simd', 'scalar']) {
      const bytes = await (await fetch(`/dist/nibble-${flavour}.wasm`)).arrayBuffer();
      if (WebAssembly.validate(bytes)) out.push(flavour);
    }
    return out;
  });
}

test('ES module and script tag: the reference results, with the build the engine runs best', async () => {
  for (const name of ['esm', 'script-tag']) {
    await withPage(`${server.url}tests/browser/pages/${name}.html`, async (page) => {
      const result = await pageResult(page);
      assert.equal(result.error, undefined, result.error);
      assert.deepEqual(result.failures, []);
      assert.ok(result.checks >= 30, `only ${result.checks} checks ran`);
      const runs = await validatingFlavours(page);
      assert.equal(result.info.flavour, runs[0], `picked ${result.info.flavour}; the engine validates ${runs}`);
      assert.equal(result.info.flavour, PICK);
      assert.equal(result.info.wasmUrl, `${server.url}dist/nibble-${PICK}.wasm`);
    });
  }
});

test('golden generation: stories260K text, token ids, logits and INT4 KL in the page', async () => {
  await withPage(`${server.url}tests/browser/pages/model.html?build=esm`, async (page, seen) => {
    const result = await pageResult(page);
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual(result.failures, []);
    assert.ok(result.checks >= 20, `only ${result.checks} checks ran`);
    assert.equal(result.info.flavour, PICK);
    const kl = seen.console.find((l) => l.startsWith('log: q4_0 w4a8: mean KL'));
    assert.ok(kl, 'no KL line in the console');
    console.log(`[firefox] ${kl}; f32 logits max diff ${result.notes.f32MaxDiff.toExponential(2)}`);
  });
});

test('a worker model generates the reference story; the page never loads the wasm', async () => {
  const ref = referenceStory(0);
  const r = await withPage(`${server.url}tests/browser/pages/worker.html`, async (page) => {
    await page.waitForFunction(() => window.ready === true);
    return page.evaluate(async ({ prompt, maxTokens }) => {
      const model = await nibble.loadModel('/models/stories260K.gguf', { worker: true, weights: 'f32' });
      const { text, stats } = await model.complete(prompt, { temperature: 0, maxTokens });
      const runtime = model.runtime;
      model.dispose();
      return { text, stats, runtime, wasmOnPage: performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\.wasm$/.test(n)) };
    }, { prompt: ref.prompt, maxTokens: ref.maxTokens });
  });
  assert.equal(ref.prompt + r.text, ref.text);
  assert.equal(r.stats.stopReason, 'max_tokens');
  assert.equal(r.runtime.worker, true);
  assert.equal(r.runtime.wasmUrl, `${server.url}dist/nibble-${PICK}.wasm`);
  assert.deepEqual(r.wasmOnPage, []);
});

// tests/browser/pages/threads.html: matmul checks, then the same greedy text
// with the module's threads and with one.
async function threadsCheck(origin, threads) {
  return withPage(`${origin}tests/browser/pages/threads.html?threads=${threads}`, async (page, seen) => {
    const result = await pageResult(page);
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual(result.failures, []);
    assert.equal(result.checks, 6);
    assert.ok(result.texts[0].length > 40, `generated only '${result.texts[0]}'`);
    assert.equal(result.texts[0], result.texts[1], 'greedy text differs between the threads and one thread');
    return { result, warnings: seen.console.filter((l) => l.startsWith('warn')) };
  });
}

test('cross-origin isolated page, threads: 2 -> the relaxed SIMD + pthreads build; without isolation one warning and one thread', async () => {
  const isolated = await threadsCheck(coiServer.url, 2);
  assert.equal(isolated.result.crossOriginIsolated, true);
  assert.deepEqual(isolated.result.info, {
    simd: true, threads: 2, flavour: `${PICK}-threads`, threadsUnavailable: null, wasmUrl: `${coiServer.url}dist/nibble-${PICK}-threads.wasm`,
  });
  assert.deepEqual(isolated.result.modelThreads, [2, 1]);
  assert.deepEqual(isolated.warnings, []);

  const plain = await threadsCheck(server.url, 2);
  assert.equal(plain.result.crossOriginIsolated, false);
  assert.equal(plain.result.info.flavour, PICK);
  assert.equal(plain.result.info.threads, 1);
  assert.deepEqual(plain.warnings, [
    'warn: nibble: threads unavailable because the page is not cross-origin isolated (serve it with ' +
    'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp); using 1 thread',
  ]);
});

test('the single HTML file generates from file:// what Node generates', async () => {
  singleFolder = mkdtempSync(join(tmpdir(), 'nibble-single-firefox-'));
  const file = join(singleFolder, 'nibble-demo.html');
  execFileSync(process.execPath, [join(repo, 'tools/build_single_file.mjs'), '-o', file, '--dist', dist], { stdio: 'pipe' });
  const url = pathToFileURL(file).href;
  const text = await withPage(url, async (page) => {
    await waitReady(page);
    assert.equal(await textOf(page, '#stat-wasm'), 'SIMD128 · 1 thread · on the page');
    return generate(page, { prompt: 'Once upon a time', temperature: 0, maxTokens: 100 });
  }, [url]);
  assert.equal(text, `Once upon a time${await generateInNode('Once upon a time', { weights: 'q4_0', temperature: 0, maxTokens: 100 })}`);
});

test('the demo: relaxed SIMD, threads, in a worker; FP32 greedy writes the reference story; screenshot', async () => {
  await withPage(demoServer.url, async (page) => {
    await waitReady(page);
    const threads = Math.min(await page.evaluate(() => navigator.hardwareConcurrency), 8); // the demo's Auto
    assert.ok(threads >= 2, `${threads} core: the threads build would not run`);
    assert.equal(await textOf(page, '#stat-wasm'), `SIMD128 + relaxed · ${threads} threads · in a Web Worker`);
    await page.select('#weights', 'f32');
    await waitReady(page);
    const ref = referenceStory(0);
    assert.equal(await generate(page, { prompt: ref.prompt, temperature: 0, maxTokens: ref.maxTokens }), ref.text);
    mkdirSync(join(repo, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repo, 'test-results/demo-firefox.png'), fullPage: true });
  });
});

// The demo's (and the single file's) controls.
const textOf = (page, selector) => page.$eval(selector, (el) => el.textContent);

async function waitReady(page) {
  try {
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), { timeout: 60000 });
  } catch (e) {
    // Say where the load stood: its state, status line and progress.
    const shown = await page.evaluate(() => `state ${document.body.dataset.state}; ` +
      `status '${document.getElementById('load-status')?.textContent}'; ` +
      `progress ${document.getElementById('progress-percent')?.textContent}`);
    e.message += ` (the demo showed: ${shown})`;
    throw e;
  }
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'ready') throw new Error(`the demo did not load: ${await textOf(page, '#error')}`);
}

async function generate(page, { prompt, temperature, maxTokens }) {
  await page.evaluate((values) => {
    for (const [id, value] of Object.entries(values)) {
      const input = document.getElementById(id);
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }, { prompt, temperature: String(temperature), 'max-tokens': String(maxTokens) });
  await page.click('#generate');
  await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.getElementById('stat-stop').textContent !== '–', { timeout: 60000 });
  return (await textOf(page, '#output-prompt')) + (await textOf(page, '#output-text'));
}
