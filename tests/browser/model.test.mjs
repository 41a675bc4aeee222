// The golden model checks in Chromium (Debian's, driven by playwright-core):
// tests/browser/pages/model.html loads stories260K over HTTP from 127.0.0.1
// (with progress), from a Blob, and checks greedy text + token ids against
// llama2.c's reference (F32), logits within 1e-4, INT4 mean KL ≤ 0.04 and
// top-1 agreement ≥ 15/16, seeds and aborts; for the ES module and the
// script-tag build, SIMD and scalar.
// The README's browser snippet runs too, and its Stop button works.
// Needs dist/ built (tools/build.sh). Run: node --test tests/browser/model.test.mjs
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
      '/readme-model/': join(repo, 'tests/js/model_readme'), // the README's page,
      '/readme-model/nibble/': join(repo, 'dist'), //           with dist/ as nibble/
      '/readme-model/models/': join(repo, 'models'), //         and the model in models/
    },
  });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const FLAVOURS = { true: 'simd', relaxed: 'simd-relaxed', false: 'scalar' };
for (const [build, simd] of [['esm', true], ['esm', 'relaxed'], ['esm', false], ['global', 'relaxed']]) {
  test(`${build} build, ${FLAVOURS[simd]}: stories260K golden text, logits and INT4 KL in the page`, async () => {
    const page = await browser.newPage();
    const { console: lines, errors, outside } = watchPage(page, server.url);
    try {
      await page.goto(new URL(`/tests/browser/pages/model.html?build=${build}&simd=${simd}`, server.url).href);
      await page.waitForFunction(() => window.result !== undefined, null, { timeout: 60000 });
      const result = await page.evaluate(() => window.result);
      assert.equal(result.error, undefined, result.error);
      assert.deepEqual(result.failures, []);
      assert.ok(result.checks >= 20, `only ${result.checks} checks ran`);
      assert.equal(result.info.flavour, FLAVOURS[simd]);
      assert.deepEqual(errors, []);
      assert.deepEqual(outside, []);
      const kl = lines.find((l) => l.startsWith('q4_0 w4a8: mean KL'));
      assert.ok(kl, `no KL line in the console: ${lines.join('\n')}`);
      console.log(`[${build}, ${FLAVOURS[simd]}] ${kl}; f32 logits max diff ${result.notes.f32MaxDiff.toExponential(2)}; ` +
        `tokens/s: ${JSON.stringify(Object.fromEntries(Object.entries(result.notes).filter(([k]) => k.endsWith('tokens/s'))))}`);
    } finally {
      await page.close();
    }
  });
}

test('README text-generation page: streams a story into the page; Stop ends it', async () => {
  const page = await browser.newPage();
  const { errors, outside } = watchPage(page, server.url);
  try {
    // The page samples with seed 42, whose story runs the full 200 tokens
    // (no end-of-sequence) in every build, so only Stop can end it early. The
    // bundled model writes them in ~50 ms: slow the page down so that the
    // click lands while it still generates.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 20 });
    // Even so a click from the test can arrive after the 200th token; the
    // page itself clicks Stop the moment the story passes 40 characters.
    await page.addInitScript(() => {
      document.addEventListener('DOMContentLoaded', () => {
        const story = document.querySelector('#story');
        const observer = new MutationObserver(() => {
          if (story.textContent.length <= 40) return;
          observer.disconnect();
          document.querySelector('#stop').click();
        });
        observer.observe(story, { childList: true, characterData: true, subtree: true });
      });
    });
    const done = page.waitForEvent('console', { predicate: (msg) => / tokens\/s, /.test(msg.text()), timeout: 60000 });
    await page.goto(new URL('/readme-model/page.html', server.url).href);
    const line = (await done).text();
    const story = await page.textContent('#story');
    assert.match(story, /^Once upon a time\S*\s\S+/);
    assert.match(line, /^\d+ tokens, \d+ tokens\/s, abort$/);
    assert.deepEqual(errors, []);
    assert.deepEqual(outside, []);
  } finally {
    await page.close();
  }
});
