// Where a first load of a model goes in Chromium: a timeline of one
// loadModel() from the local test server (fresh browser context, no HTTP or
// Cache API entry, as the model bench loads), A/B over package folders in
// alternating rounds, with a plain download of the same file (the body read
// and dropped) as the floor of what the browser's own download handling costs.
//
//   node bench/model/load_timeline.mjs <model.gguf> [--dist DIR]... [--rounds N] [--fetch] [--wllama]
//     [--cache] [--json]
//
// Per load (ms from the loadModel() call): first and last byte fed (onProgress),
// ready (loadModel resolved), first token (a 1-token generation after it), and
// the page's main thread over the load: busy (CDP Performance.getMetrics
// TaskDuration, cpuMs) and its CPU time (ThreadTime, threadMs). --fetch adds
// a download-only row per round; --wllama one wllama load per round (its
// fetch + init, as bench/model/wllama.html times it); --cache
// loads with { cache: true } twice per page (the second from Cache Storage).
// Medians over rounds.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { statSync } from 'node:fs';

import { startServer } from '../../tests/browser/server.mjs';
import { launchCdpChromium, PAGE_WORK_TIMEOUT_MS } from './cdp_page.mjs';
import { median } from './nibble_run.mjs';
import { runWllamaBench } from './wllama_bench.mjs';
import { BENCH_MODELS } from './bench_models.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const dists = [];
let modelFile = null, rounds = 3, withFetch = false, withWllama = false, withCache = false, json = false, profile = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--dist') dists.push(path.resolve(args[++i]));
  else if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--fetch') withFetch = true;
  else if (args[i] === '--wllama') withWllama = true;
  else if (args[i] === '--cache') withCache = true;
  else if (args[i] === '--json') json = true;
  else if (args[i] === '--profile') profile = true;
  else modelFile = path.resolve(args[i]);
}
if (!modelFile || !statSync(modelFile, { throwIfNoEntry: false })?.isFile()) {
  console.error('usage: node bench/model/load_timeline.mjs <model.gguf> [--dist DIR]... [--rounds N] [--fetch] [--wllama] [--cache]');
  process.exit(2);
}
if (dists.length === 0) dists.push(path.join(repoRoot, 'dist'));

// In the page: one load with progress marks, then a first token.
async function loadInPage([modelUrl, cache]) {
  const nibble = await import('/dist/nibble.mjs');
  await nibble.init({});
  const one = async () => {
    const marks = { first: null, last: null, quarters: [] };
    const t0 = performance.now();
    const model = await nibble.loadModel(modelUrl, {
      context: 64,
      cache,
      onProgress: ({ loaded, total, status }) => {
        const t = performance.now() - t0;
        if (status === 'ready') return;
        if (marks.first === null && loaded > 0) marks.first = t;
        if (total && marks.quarters.length < 4 && loaded >= total * (marks.quarters.length + 1) / 4) marks.quarters.push(t);
        marks.last = t;
      },
    });
    const ready = performance.now() - t0;
    for await (const piece of model.generate([1, 300], { maxTokens: 1, temperature: 0, addBos: false })) void piece;
    const firstToken = performance.now() - t0;
    const heapMiB = nibble._debug ? nibble._debug.heapPeakBytes() / 2 ** 20 : null;
    const loadedMiB = model.info.loadedBytes / 2 ** 20;
    model.dispose();
    return { ...marks, ready, firstToken, heapMiB, loadedMiB };
  };
  const first = await one();
  return cache ? { ...first, again: await one() } : first;
}

// In the page: the download alone, read into a reused 1 MiB buffer (as
// loadModel() reads, web/src/sources.mjs, without its read-ahead) and dropped. (The default reader's
// fresh chunk per read cost 2x the wall time of this: not a floor.)
async function fetchInPage(modelUrl) {
  const t0 = performance.now();
  const response = await fetch(modelUrl);
  const reader = response.body.getReader({ mode: 'byob' });
  let first = null, bytes = 0, chunks = 0, buffer = new ArrayBuffer(1 << 20);
  for (;;) {
    const { done, value } = await reader.read(new Uint8Array(buffer));
    if (done) break;
    buffer = value.buffer;
    if (first === null) first = performance.now() - t0;
    bytes += value.byteLength;
    chunks++;
  }
  return { first, last: performance.now() - t0, bytes, chunks };
}

async function inFreshPage(browser, dist, work, arg) {
  const server = await startServer({
    root: repoRoot, mounts: { '/dist/': dist, '/__bench_model__/': path.dirname(modelFile) }, crossOriginIsolated: true,
  });
  const page = await browser.newPage();
  try {
    await page.goto(new URL('bench/model/nibble.html', server.url).href, 'window.nibblePageReady === true');
    await page.send('Performance.enable');
    if (profile) {
      await page.send('Profiler.enable');
      await page.send('Profiler.setSamplingInterval', { interval: 200 });
      await page.send('Profiler.start');
    }
    const before = await page.metrics('TaskDuration', 'ThreadTime');
    const cpu0 = await browser.processCpu();
    const result = await page.evaluate(work, arg, { timeoutMs: PAGE_WORK_TIMEOUT_MS });
    const after = await page.metrics('TaskDuration', 'ThreadTime');
    const cpuMs = (after.TaskDuration - before.TaskDuration) * 1000;
    const threadMs = (after.ThreadTime - before.ThreadTime) * 1000;
    const cpu1 = await browser.processCpu();
    // CPU seconds of the browser's processes by type over the load (the
    // page's renderer, the network service, the browser process).
    const processCpuMs = {};
    for (const [id, { type, cpu }] of cpu1) processCpuMs[type] = Math.round((processCpuMs[type] ?? 0) + (cpu - (cpu0.get(id)?.cpu ?? 0)) * 1000);
    result.processCpuMs = processCpuMs;
    const selfMs = profile ? selfTimes((await page.send('Profiler.stop')).profile) : undefined;
    return { ...result, cpuMs, threadMs, selfMs };
  } finally {
    await page.close();
    await server.close();
  }
}

// A CPU profile's self time per function (ms), the 25 largest.
function selfTimes(p) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ms = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const name = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}`;
    ms.set(name, (ms.get(name) ?? 0) + p.timeDeltas[i] / 1000);
  }
  return Object.fromEntries([...ms].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => [k, Math.round(v)]));
}

// Whether the vocabulary adds BOS (wllama's prompt text): the bench's table
// for its files (by name), else yes.
const bos = BENCH_MODELS.find((m) => m.file === path.basename(modelFile))?.bos ?? true;
const modelUrl = `/__bench_model__/${path.basename(modelFile)}`;
const browser = await launchCdpChromium();
const runs = { fetch: [], wllama: [], ...Object.fromEntries(dists.map((d) => [d, []])) };
try {
  for (let r = 0; r < rounds; r++) {
    if (withFetch) runs.fetch.push(await inFreshPage(browser, dists[0], fetchInPage, modelUrl));
    // Alternate the order of the package folders from round to round.
    const order = r % 2 ? [...dists].reverse() : dists;
    for (const dist of order) runs[dist].push(await inFreshPage(browser, dist, loadInPage, [modelUrl, withCache]));
    if (withWllama) runs.wllama.push(await runWllamaBench({ modelPath: modelFile, runs: 1, browser, bos }));
    if (!json) console.error(`round ${r + 1} of ${rounds} done`);
  }
} finally {
  await browser.close();
}

const medianByKey = (objects) => Object.fromEntries(Object.keys(objects[0]).map((k) => [k, median(objects.map((o) => o[k] ?? 0))]));
const fields = ['first', 'last', 'ready', 'firstToken', 'cpuMs', 'threadMs', 'heapMiB', 'loadedMiB'];
const summary = {};
for (const dist of dists) {
  const rs = runs[dist];
  summary[dist] = Object.fromEntries(fields.map((f) => [f, median(rs.map((x) => x[f]))]));
  if (withCache) summary[dist].again = Object.fromEntries(fields.slice(0, 4).map((f) => [f, median(rs.map((x) => x.again[f]))]));
  summary[dist].readyRuns = rs.map((x) => Math.round(x.ready));
  summary[dist].processCpuMs = medianByKey(rs.map((x) => x.processCpuMs));
  if (profile) summary[dist].selfMs = rs.map((x) => x.selfMs);
}
if (withFetch) {
  summary.fetch = Object.fromEntries(['first', 'last', 'cpuMs', 'threadMs'].map((f) => [f, median(runs.fetch.map((x) => x[f]))]));
  summary.fetch.processCpuMs = medianByKey(runs.fetch.map((x) => x.processCpuMs));
  if (profile) summary.fetch.selfMs = runs.fetch.map((x) => x.selfMs);
}
if (withWllama) {
  summary.wllama = Object.fromEntries(['loadMs', 'fetchMs', 'initMs'].map((f) => [f, median(runs.wllama.map((x) => x[f]))]));
  summary.wllama.loadRuns = runs.wllama.map((x) => Math.round(x.loadMs));
}
const { loadavg } = await import('node:os');
summary.loadavg = loadavg();
if (json) console.log(JSON.stringify({ summary, runs }));
else console.log(JSON.stringify(summary, null, 1));
