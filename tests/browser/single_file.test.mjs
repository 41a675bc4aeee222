// tools/build_single_file.mjs: one HTML file with the JS, the wasm and the
// bundled model inline, opened straight from disk (file://, no server):
// it loads the model and generates the reference story (FP32, greedy) and
// the same INT4 text as Node; the only thing it requests is itself.
// Needs dist/ built (bash tools/build.sh). Run: node --test tests/browser/single_file.test.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { dist, generateInNode, launchChromium, referenceStory, repo, watch } from './demo_support.mjs';

let folder, file, browser;
before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'nibble-single-'));
  file = join(folder, 'nibble-demo.html');
  const args = [join(repo, 'tools/build_single_file.mjs'), '-o', file, '--dist', dist];
  if (process.env.NIBBLE_WEB_SRC) args.push('--web', process.env.NIBBLE_WEB_SRC);
  execFileSync(process.execPath, args, { stdio: 'pipe' });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function generate(page, { prompt, temperature, maxTokens }) {
  await page.fill('#prompt', prompt);
  await page.fill('#temperature', String(temperature));
  await page.fill('#max-tokens', String(maxTokens));
  await page.click('#generate');
  await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.getElementById('stat-stop').textContent !== '–', null, { timeout: 60000 });
  return (await page.textContent('#output-prompt')) + (await page.textContent('#output-text'));
}

async function waitReady(page, seen) {
  await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: 60000 });
  if ((await page.getAttribute('body', 'data-state')) !== 'ready') {
    throw new Error(`the single file did not load: ${await page.textContent('#error')}\n${seen.console.join('\n')}\n${seen.errors.join('\n')}`);
  }
}

test('the single HTML file generates text from file:// with no server', async () => {
  const size = statSync(file).size;
  assert.ok(size > 1.5e6 && size < 4e6, `the file has ${size} bytes`);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const url = pathToFileURL(file).href;
  const seen = watch(context, [url]);
  try {
    const page = await context.newPage();
    await page.goto(url);
    await waitReady(page, seen);
    assert.match(await page.textContent('#stat-wasm'), /^SIMD128 · 1 thread · on the page$/);
    assert.match(await page.textContent('#bundled-detail'), /^embedded · 1\.2 MB GGUF$/);

    const int4 = await generate(page, { prompt: 'Once upon a time', temperature: 0, maxTokens: 100 });
    assert.equal(int4, `Once upon a time${await generateInNode('Once upon a time', { weights: 'q4_0', temperature: 0, maxTokens: 100 })}`);

    await page.selectOption('#weights', 'f32');
    await waitReady(page, seen);
    const ref = referenceStory(1);
    assert.equal(await generate(page, { prompt: ref.prompt, temperature: 0, maxTokens: ref.maxTokens }), ref.text);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.outside, [], 'the page requested something besides itself');
  } finally {
    await context.close();
  }
});
