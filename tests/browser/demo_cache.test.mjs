// loadModel(url, { cache: true }) keeps the model in the Cache API
// ('nibble-models'): the first load downloads it (one request at the server,
// progress status 'download'), a reload reads it from the cache (no request,
// status 'load'); an aborted or failed load stores nothing. The demo uses it
// for its bundled model. Requests are counted at the server.
// Needs dist/ built (bash tools/build.sh). Run: node --test tests/browser/demo_cache.test.mjs
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer } from './server.mjs';
import { countServerRequests, dist, launchChromium, repo, watch } from './demo_support.mjs';

let server, browser, requests;
before(async () => {
  requests = countServerRequests();
  server = await startServer({
    root: repo,
    mounts: { '/dist/': dist, '/demo/nibble/': dist, '/demo/models/': join(repo, 'models') },
    crossOriginIsolated: true,
  });
  browser = await launchChromium();
});
after(async () => {
  requests?.stop();
  await browser?.close();
  await server?.close();
});

async function openApiPage(context) {
  const page = await context.newPage();
  await page.goto(new URL('/tests/browser/pages/worker.html', server.url).href);
  await page.waitForFunction(() => window.ready === true);
  return page;
}

// Loads url with cache: true; -> { statuses, text, cached: keys of the cache }.
function loadCached(page, url, worker) {
  return page.evaluate(async ({ url, worker }) => {
    const statuses = [];
    const model = await nibble.loadModel(url, {
      worker,
      cache: true,
      onProgress: (e) => statuses.at(-1) !== e.status && statuses.push(e.status),
    });
    const { text } = await model.complete('Once upon a time', { temperature: 0, maxTokens: 40 });
    model.dispose();
    const cached = (await (await caches.open('nibble-models')).keys()).map((r) => r.url);
    return { statuses, text, cached };
  }, { url, worker });
}

for (const worker of [true, false]) {
  test(`cache: true ${worker ? 'in a worker' : 'on the page'}: a reload makes no request for the model`, async () => {
    const path = `/models/stories260K.gguf?from=${worker ? 'worker' : 'page'}`;
    const url = new URL(path, server.url).href;
    const context = await browser.newContext();
    const seen = watch(context, [server.url]);
    try {
      const page = await openApiPage(context);
      const first = await loadCached(page, path, worker);
      assert.deepEqual(first.statuses, ['download', 'ready']);
      assert.equal(requests.count(path), 1);
      assert.deepEqual(first.cached, [url]);

      await page.reload();
      await page.waitForFunction(() => window.ready === true);
      const second = await loadCached(page, path, worker);
      assert.deepEqual(second.statuses, ['load', 'ready']);
      assert.equal(requests.count(path), 1, 'the second load requested the model again');
      assert.equal(second.text, first.text);
      assert.deepEqual(seen.errors, []);
      assert.deepEqual(seen.outside, []);
    } finally {
      await context.close();
    }
  });
}

test('an aborted download or a file that fails to load is not stored', async () => {
  const context = await browser.newContext();
  try {
    const page = await openApiPage(context);
    const r = await page.evaluate(async () => {
      const controller = new AbortController();
      const aborted = await nibble.loadModel('/models/stories260K.gguf?aborted', {
        cache: true, signal: controller.signal, onProgress: () => controller.abort(),
      }).then(() => 'loaded', (e) => e.name);
      const failed = await nibble.loadModel('/package.json', { cache: true }).then(() => 'loaded', (e) => e.message);
      const cache = await caches.open('nibble-models');
      return { aborted, failed, keys: (await cache.keys()).map((k) => k.url) };
    });
    assert.equal(r.aborted, 'AbortError');
    assert.match(r.failed, /^nibble\.loadModel: not a GGUF file/);
    assert.deepEqual(r.keys, []);
  } finally {
    await context.close();
  }
});

test('the demo downloads its bundled model once; a reload reads it from the browser cache', async () => {
  const path = '/demo/models/stories260K.gguf';
  const before = requests.count(path);
  const context = await browser.newContext();
  const seen = watch(context, [server.url]);
  // Every text the load status shows, in order.
  await context.addInitScript(() => {
    window.statusLog = [];
    document.addEventListener('DOMContentLoaded', () => {
      const status = document.getElementById('load-status');
      new MutationObserver(() => window.statusLog.push(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
    });
  });
  try {
    const page = await context.newPage();
    const visit = async () => {
      await page.waitForSelector('body[data-state="ready"]', { timeout: 60000 });
      return page.evaluate(() => window.statusLog);
    };
    await page.goto(new URL('/demo/', server.url).href);
    const first = await visit();
    assert.equal(requests.count(path) - before, 1);
    assert.ok(first.some((s) => s.startsWith('Downloading stories260K')), first.join(' | '));
    await page.reload();
    const second = await visit();
    assert.equal(requests.count(path) - before, 1, 'the reload downloaded the model again');
    assert.ok(second.some((s) => s.startsWith('Reading from the browser cache')), second.join(' | '));
    assert.ok(!second.some((s) => s.startsWith('Downloading')), second.join(' | '));
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.outside, []);
  } finally {
    await context.close();
  }
});
