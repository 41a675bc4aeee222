// Shared by the demo, worker, cache and single-file browser tests: Chromium
// with the flags of TOOLCHAIN.md, a page watcher (console, errors, requests
// that leave the allowed origins), server-side request counting, and the
// reference texts.
import assert from 'node:assert/strict';
import dc from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startDemoServer } from '../../demo/serve.mjs';
import { launchChromium } from './chromium.mjs';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The built package; NIBBLE_DIST points the tests at another build of it.
export const dist = process.env.NIBBLE_DIST ? resolve(process.env.NIBBLE_DIST) : join(repo, 'dist');
export const modelPath = join(repo, 'models/stories260K.gguf');
export const references = JSON.parse(readFileSync(join(repo, 'models/stories260K.reference.json'), 'utf8'));


export { launchChromium };

// The greedy F32 reference: prompt, generated-token count and the exact text
// (llama2.c's run.c prints a final newline that is not part of the story).
export function referenceStory(index = 0) {
  const ref = references[index];
  return {
    prompt: ref.prompt,
    maxTokens: ref.token_ids.length - ref.prompt_token_ids.length,
    promptIds: ref.prompt_token_ids,
    text: ref.output_text.replace(/\n$/, ''),
  };
}

// Collects what a browser context logs and fails with, and every request
// whose URL does not start with one of `allowed` (e.g. the test server).
export function watch(context, allowed) {
  const seen = { console: [], errors: [], outside: [] };
  context.on('request', (req) => {
    if (!allowed.some((prefix) => req.url().startsWith(prefix))) seen.outside.push(req.url());
  });
  context.on('page', (page) => {
    page.on('console', (msg) => seen.console.push(`${msg.type()}: ${msg.text()}`));
    page.on('pageerror', (e) => seen.errors.push(String(e)));
  });
  return seen;
}

// Runs fn(page) on a fresh page (a context of its own) at url, once the page
// sets window.ready; then no page error and no request outside `allowed`.
// On failure the page's console and errors join the message.
export async function withReadyPage(browser, url, allowed, fn) {
  const context = await browser.newContext();
  const seen = watch(context, allowed);
  const page = await context.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.ready === true);
    const result = await fn(page);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.outside, []);
    return result;
  } catch (e) {
    e.message += `\nconsole:\n${seen.console.join('\n')}\npage errors:\n${seen.errors.join('\n')}`;
    throw e;
  } finally {
    await context.close();
  }
}

// A fresh context (empty cache; contextOptions are Playwright's) with the
// demo at url open and its model loaded: { context, page, seen }.
export async function openDemo(browser, url, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...contextOptions });
  const seen = watch(context, [url]);
  const page = await context.newPage();
  await page.goto(url);
  await waitReady(page, seen);
  return { context, page, seen };
}

// For a test file of demo pages: serves the demo (as npm run demo does) and
// starts Chromium before its tests, closes both after them; returns
// openDemo() for that server, its contexts made with contextOptions.
export function demoInChromium(contextOptions = {}) {
  let server, browser;
  before(async () => {
    server = await startDemoServer({ dist });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  return () => openDemo(browser, server.url, contextOptions);
}

// Waits until the demo has loaded its model; throws with the page's error,
// console and page errors if it failed.
export async function waitReady(page, seen) {
  await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: 60000 });
  const state = await page.getAttribute('body', 'data-state');
  if (state !== 'ready') {
    throw new Error(`the demo did not load: ${await page.textContent('#error')}\n${seen.console.join('\n')}\n${seen.errors.join('\n')}`);
  }
}

// Counts the HTTP requests this process's servers receive, by path and
// query ('/models/x.gguf?v=1').
export function countServerRequests() {
  const counts = new Map();
  const onStart = ({ request }) => counts.set(request.url, (counts.get(request.url) ?? 0) + 1);
  dc.subscribe('http.server.request.start', onStart);
  return {
    count: (pathAndQuery) => counts.get(pathAndQuery) ?? 0,
    stop: () => dc.unsubscribe('http.server.request.start', onStart),
  };
}

// What the same model generates in Node with the same wasm (the browser
// must produce exactly this for a greedy run).
export async function generateInNode(prompt, { weights, ...options }) {
  const nibble = await import(join(dist, 'nibble.mjs'));
  const model = await nibble.loadModel(modelPath, { weights });
  try {
    return (await model.complete(prompt, options)).text;
  } finally {
    model.dispose();
  }
}
