// Agreement with llama.cpp in Chromium (tests/js/llamacpp_logits.test.cjs is
// the Node twin): each fixture file of tests/fixtures/llamacpp but
// llama-q3_k_m.gguf, fetched by the page and loaded with the default options
// (F16 files with weights 'f32'), gives llama.cpp's logits at all 16
// positions within the fixture README's bounds for its type, judged by
// tests/js/model_reference.cjs; the files of tokenByTokenFixtures() there (an
// F16 and a Q4_K_M file per architecture) also one token at a time through
// the KV cache (logits(tokens, { batch: 1 })), within the same bounds;
// llama-q3_k_m.gguf is refused, naming a Q3_K tensor. One page (the default
// build: relaxed SIMD) for all files.
// Needs dist/ built (bash tools/build.sh). Run: node --test tests/browser/llamacpp.test.mjs
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRequire } from 'node:module';
import { startServer } from './server.mjs';
import { dist, launchChromium, repo, watch } from './demo_support.mjs';

const { tokenByTokenFixtures } = createRequire(import.meta.url)('../js/model_reference.cjs');

const REFUSED = 'llama-q3_k_m.gguf';
const FILES = readdirSync(join(repo, 'tests/fixtures/llamacpp')).filter((f) => f.endsWith('.gguf') && f !== REFUSED).sort();
const TOKEN_BY_TOKEN = tokenByTokenFixtures(FILES);
const loadOptions = (file) => (/-f16\.gguf$/.test(file) ? { weights: 'f32' } : {});

// file's logits judged in the page (logitsOptions: model.logits()'s).
const judge = (file, logitsOptions) =>
  page.evaluate((a) => window.judgeFixture(a.file, a.options, a.logitsOptions), { file, options: loadOptions(file), logitsOptions });

let server, browser, context, page, seen;
const rows = [];
before(async () => {
  server = await startServer({ root: repo, mounts: { '/dist/': dist } });
  browser = await launchChromium();
  context = await browser.newContext();
  seen = watch(context, [server.url]);
  page = await context.newPage();
  await page.goto(new URL('/tests/browser/pages/llamacpp.html', server.url).href);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30000 });
});
after(async () => {
  const flavour = page ? await page.evaluate(() => window.flavour) : '?';
  console.log(`Chromium, ${flavour}:\n${rows.map((r) => `  ${r.file.padEnd(38)} ${r.weights.padStart(6)}  max|Δ| ${r.maxDiff.toFixed(4)}  mean KL ${r.meanKl.toExponential(2)}  max KL ${r.maxKl.toExponential(2)}`).join('\n')}`);
  await context?.close();
  await browser?.close();
  await server?.close();
});

test('the fixtures are all there', () => {
  assert.equal(FILES.length, 25);
});

for (const file of FILES) {
  test(`${file}: llama.cpp's logits within the README's bounds`, async () => {
    const r = await judge(file);
    rows.push({ file, ...r });
    assert.equal(r.tokens, 16);
    assert.deepEqual(r.failures, []);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.outside, []);
  });
}

for (const file of TOKEN_BY_TOKEN) {
  test(`${file}, one token at a time through the KV cache: within the same bounds`, async () => {
    const r = await judge(file, { batch: 1 });
    rows.push({ file: `${file} (batch 1)`, ...r });
    assert.equal(r.tokens, 16);
    assert.deepEqual(r.failures, []);
    assert.deepEqual(seen.errors, []);
  });
}

test(`${REFUSED} is refused, naming a Q3_K tensor`, async () => {
  const message = await page.evaluate((file) => window.loadError(file), REFUSED);
  assert.match(message, /^nibble\.loadModel: GGUF tensor blk\.0\.attn_k\.weight has type q3_k which nibble does not support/);
});
