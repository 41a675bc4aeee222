// The demo's Quantize panel in Chromium with the bundled model: GPTQ on
// tokens the model samples itself, progress up to 100 %, the before/after
// KL divergence on a held-out sample (the calibrated file's below rounding
// to nearest), and a download that loads (in Node, with the built package)
// as a standard IQ4_NL GGUF file; then the pasted-text calibration.
// Saves test-results/demo-quantize.png. Needs dist/ built (bash tools/build.sh). Run: node --test tests/browser/demo_quantize.test.mjs
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { demoInChromium, dist, repo } from './demo_support.mjs';

const openDemo = demoInChromium({ acceptDownloads: true });

// Clicks Quantize and waits for the panel to finish; its result or error.
async function quantize(page) {
  const percents = [];
  await page.exposeFunction('notePercent', (p) => percents.push(p)).catch(() => {});
  await page.evaluate(() => {
    new MutationObserver(() => window.notePercent(document.getElementById('quant-percent').textContent))
      .observe(document.getElementById('quant-percent'), { childList: true, characterData: true, subtree: true });
  });
  await page.click('#quantize');
  await page.waitForFunction(() => window.nibbleDemo.quantize.result || window.nibbleDemo.quantize.error, null, { timeout: 120000 });
  const state = await page.evaluate(() => ({ ...window.nibbleDemo.quantize }));
  assert.equal(state.error, undefined, state.error);
  return { ...state.result, percents };
}

test('Quantize panel: self-calibrated IQ4_NL, KL below rounding to nearest, a download that loads', async () => {
  const { context, page, seen } = await openDemo();
  const folder = mkdtempSync(join(tmpdir(), 'nibble-quantize-'));
  try {
    await page.selectOption('#quant-type', 'iq4_nl');
    await page.selectOption('#quant-calibration', 'self');
    await page.fill('#quant-self', '512');
    const r = await quantize(page);
    assert.equal(r.percents.at(-1), '100 %');
    assert.ok(r.klAfter < 0.8 * r.klBefore, `KL ${r.klAfter} (GPTQ) against ${r.klBefore} (round-to-nearest)`);
    assert.equal(await page.textContent('#quant-kl-after'), r.klAfter.toFixed(4));
    assert.match(await page.textContent('#quant-status'), /^Done: mean KL/);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#quant-download')]);
    assert.equal(download.suggestedFilename(), 'stories260K-iq4_nl-gptq.gguf');
    const file = join(folder, download.suggestedFilename());
    await download.saveAs(file);
    const bytes = readFileSync(file);
    assert.equal(bytes.byteLength, r.bytes);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'GGUF');
    const nibble = await import(join(dist, 'nibble.mjs'));
    const model = await nibble.loadModel(new Uint8Array(bytes));
    try {
      assert.equal(model.info.weightType, 'iq4_nl');
      const { text } = await model.complete('Once upon a time', { maxTokens: 8, temperature: 0 });
      assert.ok(text.length > 0);
    } finally {
      model.dispose();
    }
    mkdirSync(join(repo, 'test-results'), { recursive: true });
    await (await page.$('.quantize-panel')).screenshot({ path: join(repo, 'test-results', 'demo-quantize.png') });
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.outside, []);
  } finally {
    rmSync(folder, { recursive: true, force: true });
    await context.close();
  }
});

test('Quantize panel: calibration on pasted text (Q4_0), and none (rounding to nearest)', async () => {
  const { context, page } = await openDemo();
  try {
    await page.selectOption('#quant-type', 'q4_0');
    await page.selectOption('#quant-calibration', 'text');
    assert.equal(await page.isVisible('#quant-text'), true);
    const calib = readFileSync(join(repo, 'tests/fixtures/quality/calib.txt'), 'utf8').slice(0, 4000);
    await page.fill('#quant-text', calib);
    const gptq = await quantize(page);
    assert.ok(gptq.klAfter < gptq.klBefore, `KL ${gptq.klAfter} (GPTQ) against ${gptq.klBefore}`);
    assert.equal(gptq.file, 'stories260K-q4_0-gptq.gguf');

    await page.evaluate(() => { window.nibbleDemo.quantize.result = null; });
    await page.selectOption('#quant-calibration', 'none');
    const rtn = await quantize(page);
    // Without calibration the file is the round-to-nearest one "before"
    // measures; that measurement is the GPTQ run's "before" again.
    assert.ok(Number.isFinite(rtn.klBefore) && rtn.klBefore > 0, `KL before ${rtn.klBefore}`);
    assert.equal(rtn.klBefore, gptq.klBefore);
    assert.equal(rtn.klAfter, rtn.klBefore);
    assert.equal(rtn.file, 'stories260K-q4_0.gguf');
  } finally {
    await context.close();
  }
});
