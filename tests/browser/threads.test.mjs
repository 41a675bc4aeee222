// The multithreaded build in Chromium: a page served with COOP/COEP
// (tests/browser/server.mjs, crossOriginIsolated) gets the SIMD + pthreads
// build with init({ threads: 2 }) — its pthread workers run and the results
// match the plain-JS reference; the same page without those headers falls
// back to the single-thread SIMD build with exactly one console warning that
// says why. Nothing is requested from outside 127.0.0.1.
// Needs dist/ built (tools/build.sh). Run: node --test tests/browser/threads.test.mjs
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium, watchPage } from './chromium.mjs';
import { startServer } from './server.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const PAGE = '/tests/browser/pages/threads.html';

let coiServer, plainServer, browser;
before(async () => {
  coiServer = await startServer({ root: repo, crossOriginIsolated: true });
  plainServer = await startServer({ root: repo });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await coiServer?.close();
  await plainServer?.close();
});

// Opens the check page on a server with threads (a JSON value); its headers
// (COOP/COEP or none) come from that server.
// Returns { result, warnings, errors, outside, workers }.
async function openCheck(server, threads) {
  const page = await browser.newPage();
  const { errors, outside } = watchPage(page, server.url);
  const warnings = [], lines = [];
  page.on('console', (msg) => {
    lines.push(`${msg.type()}: ${msg.text()}`);
    if (msg.type() === 'warning') warnings.push(msg.text());
  });
  try {
    await page.goto(`${server.url}${PAGE.slice(1)}?threads=${encodeURIComponent(JSON.stringify(threads))}`);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 60000 });
    const result = await page.evaluate(() => window.result);
    return { result, warnings, errors, outside, workers: page.workers().map((w) => w.url()) };
  } catch (e) {
    throw new Error(`threads=${JSON.stringify(threads)}: ${e.message}\nconsole:\n${lines.join('\n')}\nerrors: ${errors.join('\n')}`);
  } finally {
    await page.close();
  }
}

function assertResultsRight(result) {
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual(result.failures, []);
  assert.equal(result.checks, 6);
  assert.deepEqual(result.modelThreads, [result.info.threads, 1]);
  assert.ok(result.texts[0].length > 40, `generated only '${result.texts[0]}'`);
  assert.equal(result.texts[0], result.texts[1], 'greedy text differs between the threads and one thread');
}

test('cross-origin isolated page, threads: 2 -> SIMD + pthreads build, right results', async () => {
  const { result, warnings, errors, outside, workers } = await openCheck(coiServer, 2);
  assertResultsRight(result);
  assert.equal(result.crossOriginIsolated, true);
  assert.equal(result.sharedArrayBuffer, true);
  assert.deepEqual(result.info, {
    simd: true, threads: 2, flavour: 'simd-relaxed-threads', threadsUnavailable: null, // Chromium has relaxed SIMD
    wasmUrl: `${coiServer.url}dist/nibble-simd-relaxed-threads.wasm`,
  });
  // One pthread worker beside the main thread, running the worker script.
  assert.deepEqual(workers, [`${coiServer.url}dist/nibble-simd-relaxed-threads.worker.mjs`]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
});

test("cross-origin isolated page, threads: 'auto' -> the browser's cores (at most 8)", async () => {
  const { result, warnings } = await openCheck(coiServer, 'auto');
  assertResultsRight(result);
  const want = Math.min(result.cores, 8);
  assert.equal(result.info.threads, want);
  assert.equal(result.info.flavour, want > 1 ? 'simd-relaxed-threads' : 'simd-relaxed');
  assert.deepEqual(warnings, []);
});

test('page without COOP/COEP, threads: 2 -> single-thread build and one warning saying why', async () => {
  const { result, warnings, errors, outside, workers } = await openCheck(plainServer, 2);
  assertResultsRight(result);
  assert.equal(result.crossOriginIsolated, false);
  assert.deepEqual(result.info, {
    simd: true, threads: 1, flavour: 'simd-relaxed', // Chromium has relaxed SIMD
    threadsUnavailable: 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and ' +
      'Cross-Origin-Embedder-Policy: require-corp)',
    wasmUrl: `${plainServer.url}dist/nibble-simd-relaxed.wasm`,
  });
  assert.deepEqual(warnings, [
    'nibble: threads unavailable because the page is not cross-origin isolated (serve it with ' +
    'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp); using 1 thread',
  ]);
  assert.deepEqual(workers, []);
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
});
