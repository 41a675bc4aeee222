// The baseline of the model benchmark (issue #4 item 8): the benchmark GGUF
// through @wllama/wllama (llama.cpp compiled to wasm), one thread, in Debian's
// Chromium driven over the DevTools protocol (cdp_page.mjs), as nibble's
// Chromium runs are. Measures load ms (fetch from localhost
// + wllama init), prefill tokens/s for a 64-token prompt and decode tokens/s
// for 64 greedy tokens; medians over `runs` fresh loads.
//
//   import { runWllamaBench } from './model/wllama_bench.mjs';
//   const r = await runWllamaBench({ modelPath: 'build/mbench/bench_model.gguf', runs: 3 });
//   // { loadMs, prefillTokPerS, decodeTokPerS, version, ... }
//
// Standalone: node bench/model/wllama_bench.mjs <model.gguf> [--runs N]   (prints JSON)
// The model comes from tools/make_bench_model.cpp (nibble_make_bench_model).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../../tests/browser/server.mjs';
import { launchCdpChromium, PAGE_WORK_TIMEOUT_MS } from './cdp_page.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function wllamaVersion() {
  const pkg = path.join(REPO_ROOT, 'node_modules/@wllama/wllama/package.json');
  return JSON.parse(readFileSync(pkg, 'utf8')).version;
}

// Returns { loadMs, prefillTokPerS, decodeTokPerS, version, libllamaVersion,
// fetchMs, initMs, promptTokens, decodeTokens, runs: [per-run details] }.
// bos: whether the file's tokenizer adds BOS (the page builds the prompt text
// for its vocabulary: see wllama.html).
// `browser` (from cdp_page.mjs's launchCdpChromium) may be passed to share
// one Chromium with other benchmarks; otherwise one is launched and closed
// here. Each call loads in a fresh browser context.
export async function runWllamaBench({ modelPath, runs = 3, browser = null, timeoutMs = PAGE_WORK_TIMEOUT_MS, bos = true } = {}) {
  if (!modelPath) throw new TypeError('runWllamaBench: modelPath is required');
  const absModel = path.resolve(modelPath);
  if (!statSync(absModel, { throwIfNoEntry: false })?.isFile()) {
    throw new Error(`runWllamaBench: no model file at ${absModel} (make it with nibble_make_bench_model)`);
  }
  const server = await startServer({
    root: REPO_ROOT, mounts: { '/__bench_model__/': path.dirname(absModel) }, crossOriginIsolated: true,
  });
  const modelUrl = `/__bench_model__/${path.basename(absModel)}`;
  const ownBrowser = browser === null;
  const b = ownBrowser ? await launchCdpChromium() : browser;
  try {
    const page = await b.newPage();
    try {
      await page.goto(new URL('bench/model/wllama.html', server.url).href, 'window.wllamaPageReady === true');
      const result = await page.evaluate((options) => window.runWllama(options), { modelUrl, runs, bos }, { timeoutMs });
      return { version: wllamaVersion(), ...result };
    } finally {
      await page.close();
    }
  } finally {
    if (ownBrowser) await b.close();
    await server.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let modelPath = null;
  let runs = 3;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = Number(args[++i]);
    else if (!modelPath) modelPath = args[i];
  }
  if (!modelPath || !(runs >= 1)) {
    console.error('usage: node bench/model/wllama_bench.mjs <model.gguf> [--runs N]');
    process.exit(2);
  }
  try {
    console.log(JSON.stringify(await runWllamaBench({ modelPath, runs }), null, 2));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
