// Model benchmark (issue #4 item 8): a LLaMA-shaped random-weight Q4_0 GGUF
// in the shape of SmolLM2-135M, written by our own GGUF writer
// (tools/make_bench_model.cpp). One thread. nibble in Node and in Chromium,
// and in the same Chromium @wllama/wllama (llama.cpp compiled to wasm) on the
// same file: load ms, prefill tokens/s (64-token prompt), decode tokens/s (64
// tokens), decode's effective weight bandwidth as a fraction of the
// streaming-read probe (from the matmul section of the same run). nibble runs
// twice in each: the build init() picks by default (relaxed SIMD where the
// engine has it; Node 20 gets --experimental-wasm-relaxed-simd) and the plain
// SIMD build as the baseline.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { launchChromium } from '../../tests/browser/chromium.mjs';
import { startServer } from '../../tests/browser/server.mjs';
import { RELAXED_SIMD_NODE_FLAGS } from '../bench_program.mjs';
import { runWllamaBench } from '../model/wllama_bench.mjs';

export const name = 'model';
export const title = 'Model: SmolLM2-135M-shaped Q4_0 GGUF, one thread: nibble (Node, Chromium) vs wllama (Chromium)';

function benchModel(ctx) {
  const file = path.join(ctx.repoRoot, 'build/bench/bench_model.gguf');
  if (existsSync(file)) return file;
  const tool = path.join(ctx.repoRoot, 'build/native/tools/nibble_make_bench_model');
  if (!existsSync(tool)) throw new Error(`${tool} is missing: run bash tools/build.sh --only native`);
  mkdirSync(path.dirname(file), { recursive: true });
  ctx.log('writing the benchmark model (random weights, seed 1) ...');
  execFileSync(tool, [file, '--seed', '1'], { stdio: 'inherit' });
  return file;
}

async function nibbleInChromium(browser, modelFile, ctx, runs, simd) {
  const server = await startServer({
    root: ctx.repoRoot, mounts: { '/__bench_model__/': path.dirname(modelFile) }, crossOriginIsolated: true,
  });
  const modelUrl = `/__bench_model__/${path.basename(modelFile)}`;
  const page = await (await browser.newContext()).newPage();
  try {
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(new URL('bench/model/nibble.html', server.url).href);
    await page.waitForFunction(() => window.nibblePageReady === true, null, { timeout: 30000 }).catch(() => {
      throw new Error(`nibble bench page did not start: ${errors.join('; ')}`);
    });
    return await page.evaluate(([url, n, s]) => window.runNibble(url, { runs: n, simd: s }), [modelUrl, runs, simd]);
  } finally {
    await page.context().close();
    await server.close();
  }
}

export async function run(ctx) {
  const modelFile = benchModel(ctx);
  const runs = ctx.quick ? 1 : 3;
  const script = path.join(ctx.repoRoot, 'bench/model/nibble_node.mjs');
  const inNode = (simd, nodeFlags = []) => JSON.parse(execFileSync(process.execPath,
    [...nodeFlags, script, modelFile, '--runs', String(runs), '--simd', String(simd)], { encoding: 'utf8' }));
  ctx.log('nibble in Node ...');
  const node = inNode('auto', RELAXED_SIMD_NODE_FLAGS);
  const nodeSimd = inNode(true);
  const browser = await launchChromium();
  let chromiumNibble, chromiumSimd, wllama;
  try {
    ctx.log('nibble in Chromium ...');
    chromiumNibble = await nibbleInChromium(browser, modelFile, ctx, runs, 'auto');
    chromiumSimd = await nibbleInChromium(browser, modelFile, ctx, runs, true);
    ctx.log('wllama in Chromium ...');
    wllama = await runWllamaBench({ modelPath: modelFile, runs, browser });
  } finally {
    await browser.close();
  }
  const streamGbps = ctx.results?.matmul?.stream_read?.gbps ?? null;
  const bandwidth = (r) => (r.decodeTokPerS * r.weightBytes) / 1e9;
  const withBandwidth = (r) => ({
    ...r,
    decodeWeightGbps: bandwidth(r),
    fractionOfStreamRead: streamGbps ? bandwidth(r) / streamGbps : null,
  });
  return {
    model: { file: path.relative(ctx.repoRoot, modelFile), bytes: statSync(modelFile).size },
    streamReadGbps: streamGbps,
    node: withBandwidth(node),
    nodeSimd: withBandwidth(nodeSimd),
    chromium: withBandwidth(chromiumNibble),
    chromiumSimd: withBandwidth(chromiumSimd),
    wllama: {
      version: wllama.version,
      loadMs: wllama.loadMs,
      prefillTokPerS: wllama.prefillTokPerS,
      decodeTokPerS: wllama.decodeTokPerS,
    },
    ratios: {
      decodeVsWllama: chromiumNibble.decodeTokPerS / wllama.decodeTokPerS,
      prefillVsWllama: chromiumNibble.prefillTokPerS / wllama.prefillTokPerS,
      loadVsWllama: wllama.loadMs / chromiumNibble.loadMs,
      decodeVsSimdNode: node.decodeTokPerS / nodeSimd.decodeTokPerS,
      decodeVsSimdChromium: chromiumNibble.decodeTokPerS / chromiumSimd.decodeTokPerS,
    },
  };
}

const f = (v, d = 1) => (v == null ? '-' : v.toFixed(d));

export function format(data) {
  const row = (label, r) => [label, f(r.loadMs, 0), f(r.prefillTokPerS), f(r.decodeTokPerS),
    r.decodeWeightGbps == null ? '-' : f(r.decodeWeightGbps, 2), r.fractionOfStreamRead == null ? '-' : `${f(100 * r.fractionOfStreamRead)}%`];
  const table = [
    ['', 'load ms', 'prefill tok/s', 'decode tok/s', 'decode GB/s', 'of stream read'],
    row(`nibble ${data.node.flavour}, Node`, data.node),
    row(`nibble ${data.nodeSimd.flavour}, Node`, data.nodeSimd),
    row(`nibble ${data.chromium.flavour}, Chromium`, data.chromium),
    row(`nibble ${data.chromiumSimd.flavour}, Chromium`, data.chromiumSimd),
    row(`wllama ${data.wllama.version}, Chromium`, { ...data.wllama, decodeWeightGbps: null, fractionOfStreamRead: null }),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  const r = data.ratios;
  lines.push('');
  lines.push(`model ${data.model.file} (${(data.model.bytes / 2 ** 20).toFixed(1)} MiB), medians; streaming read ${f(data.streamReadGbps, 2)} GB/s`);
  lines.push(`nibble ÷ wllama in Chromium: decode ${f(r.decodeVsWllama, 2)}× (target ≥ 5×), prefill ${f(r.prefillVsWllama, 2)}× (target ≥ 10×), load ${f(r.loadVsWllama, 2)}× faster`);
  const pct = (x) => (x.fractionOfStreamRead == null ? '-' : `${f(100 * x.fractionOfStreamRead)}%`);
  lines.push(`decode weight bandwidth ${pct(data.chromium)} of streaming read in Chromium, ${pct(data.node)} in Node (${data.chromium.flavour}; target ≥ 50 %)`);
  lines.push(`decode, default build ÷ plain SIMD build: Node ${f(r.decodeVsSimdNode, 2)}×, Chromium ${f(r.decodeVsSimdChromium, 2)}×`);
  return lines.join('\n');
}
