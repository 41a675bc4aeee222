// The JS API in Chromium (Debian's, driven by playwright-core): the ES module
// build and the script-tag build, each with the SIMD and the scalar wasm,
// give the plain-JS reference results; the README's browser snippets run;
// wasmPath works; the lazily loaded parts (and the tools module) are
// fetched on first use only;
// nothing is requested from outside 127.0.0.1.
// Needs dist/ built (tools/build.sh, then node web/build.mjs).
// Run: node --test tests/browser/
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium, watchPage } from './chromium.mjs';
import { startServer } from './server.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let server, browser;
before(async () => {
  server = await startServer({
    root: repo,
    mounts: {
      '/readme/': join(repo, 'tests/js/readme'), // the README's script-tag page,
      '/readme/nibble/': join(repo, 'dist'), //      with dist/ copied as nibble/
      '/elsewhere/': join(repo, 'dist'), //          for wasmPath
    },
  });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

// Opens path, waits for window.result (or the console line `until`), and
// returns { result, console, errors, outside } where outside lists requests
// that did not go to the test server.
async function openPage(path, { until } = {}) {
  const page = await browser.newPage();
  const { console: consoleLines, errors, outside } = watchPage(page, server.url);
  try {
    await page.goto(new URL(path, server.url).href);
    if (until) {
      await page.waitForEvent('console', { predicate: (msg) => until.test(msg.text()), timeout: 30000 });
      return { console: consoleLines, errors, outside };
    }
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 30000 });
    return { result: await page.evaluate(() => window.result), console: consoleLines, errors, outside };
  } catch (e) {
    throw new Error(`${path}: ${e.message}\nconsole: ${consoleLines.join('\n')}\nerrors: ${errors.join('\n')}`);
  } finally {
    await page.close();
  }
}

for (const page of ['esm', 'script-tag']) {
  for (const [simd, flavour] of [[true, 'simd'], ['relaxed', 'simd-relaxed'], [false, 'scalar']]) {
    test(`${page} page, ${flavour} build: results match the plain-JS reference`, async () => {
      const { result, errors, outside } = await openPage(`/tests/browser/pages/${page}.html?simd=${simd}`);
      assert.equal(result.error, undefined, result.error);
      assert.deepEqual(result.failures, []);
      assert.ok(result.checks >= 30, `only ${result.checks} checks ran`);
      assert.equal(result.info.simd, simd !== false);
      assert.equal(result.info.flavour, flavour);
      assert.match(result.info.wasmUrl, new RegExp(`^${server.url}dist/nibble-${flavour}\\.wasm$`));
      assert.deepEqual(errors, []);
      assert.deepEqual(outside, []);
    });
  }
}

for (const build of ['esm', 'global']) {
  test(`${build} build: the lazily loaded parts are fetched on first use only, and work`, async () => {
    const { result, errors, outside } = await openPage(`/tests/browser/pages/lazy-parts.html?build=${build}`);
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual(result.before, []);
    const tools = ['/dist/nibble-simd-relaxed-tools.mjs', '/dist/nibble-simd-relaxed-tools.wasm'];
    assert.deepEqual(result.after, [...['chat', 'cache', 'quality', 'worker-client'].map((p) => `/dist/nibble-${p}.mjs`), ...tools].sort());
    assert.deepEqual({ ...result, before: undefined, after: undefined }, { windows: 2, imatrixWindows: 2, prompt: 'hi!', cachedVocab: 512, ids: true, before: undefined, after: undefined });
    assert.deepEqual(errors, []);
    assert.deepEqual(outside, []);
  });
}

test('simd: auto picks the relaxed-SIMD build in Chromium', async () => {
  const { result } = await openPage('/tests/browser/pages/esm.html');
  assert.deepEqual(result.failures, []);
  assert.equal(result.info.flavour, 'simd-relaxed');
});

test('README npm-import snippet runs in the page (import map for the bare name)', async () => {
  const { console: lines, errors, outside } = await openPage('/tests/browser/pages/readme-npm-import.html', { until: /^rmse / });
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
  assert.equal(lines[0], 'q4_0 [256, 512] 73728 4.5');
  assert.equal(lines[1], '256 256');
  assert.match(lines[2], /^rmse 0\.\d+, SQNR \d+\.\d dB, cosine 0\.99\d\d$/);
});

test('README script-tag snippet runs from a page with dist/ copied as nibble/', async () => {
  const { console: lines, errors, outside } = await openPage('/readme/script-tag.html', { until: /^q4_1 / });
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
  assert.equal(lines.at(-1), 'q4_1 5 64');
});

test('wasmPath loads the .wasm from another folder; a wrong one gives an actionable Error', async () => {
  const ok = await openPage('/tests/browser/pages/wasm-path.html?wasmPath=/elsewhere/');
  assert.equal(ok.result.error, undefined, ok.result.error);
  assert.match(ok.result.info.wasmUrl, new RegExp(`^${server.url}elsewhere/nibble-simd-relaxed\\.wasm$`)); // Chromium has relaxed SIMD
  assert.ok(ok.result.y.length === 2 && ok.result.y.every((v) => Math.abs(v - 32) < 0.01), `y = ${ok.result.y}`);
  const bad = await openPage('/tests/browser/pages/wasm-path.html?wasmPath=/missing');
  assert.match(bad.result.error, /^Error: nibble\.init: could not fetch http:\/\/127\.0\.0\.1:\d+\/missing\/nibble-simd-relaxed\.wasm: HTTP 404; serve the \.wasm files/);
});
