// Model benchmark (issues #4 item 8, #14 item 3): a LLaMA-shaped
// random-weight Q4_0 GGUF in the shape of SmolLM2-135M, written by our own
// GGUF writer (tools/make_bench_model.cpp). One thread. nibble in Node and in
// Chromium, in the same Chromium @wllama/wllama (llama.cpp compiled to wasm),
// and native llama.cpp (node-llama-cpp's prebuilt binary) on the same file:
// load ms, prefill tokens/s and time to first token for 64- and 512-token
// prompts (wllama: 64), decode tokens/s (64 tokens), decode's effective
// weight bandwidth as a fraction of the streaming-read probe (from the
// matmul section of the same run). nibble runs twice in each: the build
// init() picks by default (relaxed SIMD where the engine has it; Node 20 gets
// --experimental-wasm-relaxed-simd) and the plain SIMD build as the baseline.
// The data's `runs` holds one row per engine, runtime, build and prompt length.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { launchChromium } from '../../tests/browser/chromium.mjs';
import { startServer } from '../../tests/browser/server.mjs';
import { RELAXED_SIMD_NODE_FLAGS } from '../bench_program.mjs';
import { runLlamaCppBench } from '../model/llamacpp_bench.mjs';
import { runWllamaBench } from '../model/wllama_bench.mjs';

export const name = 'model';
export const title = 'Model: SmolLM2-135M-shaped Q4_0 GGUF, one thread: nibble (Node, Chromium) vs wllama (Chromium) and llama.cpp (native)';

const PROMPTS = [64, 512];

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
    return await page.evaluate(([url, n, s, p]) => window.runNibble(url, { runs: n, simd: s, promptTokens: p }), [modelUrl, runs, simd, PROMPTS]);
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
    [...nodeFlags, script, modelFile, '--runs', String(runs), '--simd', String(simd), '--prompts', PROMPTS.join(',')],
    { encoding: 'utf8' }));
  ctx.log('nibble in Node ...');
  const node = inNode('auto', RELAXED_SIMD_NODE_FLAGS);
  const nodeSimd = inNode(true);
  ctx.log('llama.cpp native (node-llama-cpp) ...');
  const native = await runLlamaCppBench({ modelPath: modelFile, promptTokens: PROMPTS, runs });
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
  const modelName = path.basename(modelFile);
  const rows = [];
  const addRows = (engine, runtime, build, results, weightBytes = null) => {
    for (const r of results) {
      const gbps = weightBytes ? (r.decodeTokPerS * weightBytes) / 1e9 : null;
      rows.push({
        engine, runtime, build, model: modelName, threads: 1, prompt_tokens: r.promptTokens,
        prefill_tps: r.prefillTokPerS, decode_tps: r.decodeTokPerS, ttft_ms: r.ttftMs ?? null,
        decode_weight_gbps: gbps, fraction_of_stream_read: gbps && streamGbps ? gbps / streamGbps : null,
      });
    }
  };
  addRows('nibble', 'node', node.flavour, node.results, node.weightBytes);
  addRows('nibble', 'node', nodeSimd.flavour, nodeSimd.results, nodeSimd.weightBytes);
  addRows('nibble', 'chromium', chromiumNibble.flavour, chromiumNibble.results, chromiumNibble.weightBytes);
  addRows('nibble', 'chromium', chromiumSimd.flavour, chromiumSimd.results, chromiumSimd.weightBytes);
  addRows('wllama', 'chromium', `wllama ${wllama.version}`,
    [{ promptTokens: wllama.promptTokens, prefillTokPerS: wllama.prefillTokPerS, decodeTokPerS: wllama.decodeTokPerS }]);
  addRows('llama.cpp', 'native', native.build, native.results);
  const find = (engine, runtime, build, n) => rows.find((r) => r.engine === engine && r.runtime === runtime &&
    (build == null || r.build === build) && r.prompt_tokens === n);
  const ratio = (a, b, key) => (a && b && a[key] && b[key] ? a[key] / b[key] : null);
  const at = (n) => ({
    nodeRelaxed: find('nibble', 'node', node.flavour, n),
    nodeSimd: find('nibble', 'node', nodeSimd.flavour, n),
    chromium: find('nibble', 'chromium', chromiumNibble.flavour, n),
    chromiumSimd: find('nibble', 'chromium', chromiumSimd.flavour, n),
    native: find('llama.cpp', 'native', null, n),
    wllama: find('wllama', 'chromium', null, n),
  });
  const r64 = at(64), r512 = at(512);
  return {
    model: { file: path.relative(ctx.repoRoot, modelFile), bytes: statSync(modelFile).size },
    streamReadGbps: streamGbps,
    loadMs: { node: node.loadMs, nodeSimd: nodeSimd.loadMs, chromium: chromiumNibble.loadMs, chromiumSimd: chromiumSimd.loadMs,
      wllama: wllama.loadMs, native: native.loadMs },
    runs: rows,
    ratios: {
      decodeVsWllama: ratio(r64.chromium, r64.wllama, 'decode_tps'),
      prefillVsWllama: ratio(r64.chromium, r64.wllama, 'prefill_tps'),
      loadVsWllama: wllama.loadMs / chromiumNibble.loadMs,
      decodeVsSimdNode: ratio(r64.nodeRelaxed, r64.nodeSimd, 'decode_tps'),
      decodeVsSimdChromium: ratio(r64.chromium, r64.chromiumSimd, 'decode_tps'),
      prefillVsSimdNode: ratio(r64.nodeRelaxed, r64.nodeSimd, 'prefill_tps'),
      prefillVsSimdChromium: ratio(r64.chromium, r64.chromiumSimd, 'prefill_tps'),
      prefillVsNativeNode: ratio(r64.nodeRelaxed, r64.native, 'prefill_tps'),
      prefillVsNativeChromium: ratio(r64.chromium, r64.native, 'prefill_tps'),
      decodeVsNativeNode: ratio(r64.nodeRelaxed, r64.native, 'decode_tps'),
      prefill512Vs64Node: ratio(r512.nodeRelaxed, r64.nodeRelaxed, 'prefill_tps'),
      prefill512Vs64Chromium: ratio(r512.chromium, r64.chromium, 'prefill_tps'),
      prefill512VsNativeNode: ratio(r512.nodeRelaxed, r512.native, 'prefill_tps'),
    },
  };
}

const f = (v, d = 1) => (v == null ? '-' : v.toFixed(d));

export function format(data) {
  const table = [['', 'prompt', 'prefill tok/s', 'ttft ms', 'decode tok/s', 'decode GB/s', 'of stream read']];
  for (const r of data.runs) {
    table.push([`${r.engine} ${r.build}, ${r.runtime}`, String(r.prompt_tokens), f(r.prefill_tps), f(r.ttft_ms),
      f(r.decode_tps), f(r.decode_weight_gbps, 2), r.fraction_of_stream_read == null ? '-' : `${f(100 * r.fraction_of_stream_read)}%`]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  const r = data.ratios;
  const l = data.loadMs;
  lines.push('');
  lines.push(`model ${data.model.file} (${(data.model.bytes / 2 ** 20).toFixed(1)} MiB), medians; streaming read ${f(data.streamReadGbps, 2)} GB/s`);
  lines.push(`load ms: nibble Node ${f(l.node, 0)}, Chromium ${f(l.chromium, 0)}; wllama ${f(l.wllama, 0)}; llama.cpp native ${f(l.native, 0)}`);
  lines.push(`nibble ÷ wllama in Chromium: decode ${f(r.decodeVsWllama, 2)}× (target ≥ 5×), prefill ${f(r.prefillVsWllama, 2)}× (target ≥ 10×), load ${f(r.loadVsWllama, 2)}× faster`);
  lines.push(`nibble ÷ llama.cpp native, 64-token prompt: prefill Node ${f(r.prefillVsNativeNode, 2)}×, Chromium ${f(r.prefillVsNativeChromium, 2)}× (target ≥ 0.6×); decode Node ${f(r.decodeVsNativeNode, 2)}× (target ≥ 1.0×); 512-token prefill Node ${f(r.prefill512VsNativeNode, 2)}×`);
  lines.push(`prefill, 512-token ÷ 64-token rate: Node ${f(r.prefill512Vs64Node, 2)}×, Chromium ${f(r.prefill512Vs64Chromium, 2)}× (target ≥ 0.8×)`);
  const node = data.runs.find((x) => x.engine === 'nibble' && x.runtime === 'node');
  const chromium = data.runs.find((x) => x.engine === 'nibble' && x.runtime === 'chromium');
  const pct = (x) => (x?.fraction_of_stream_read == null ? '-' : `${f(100 * x.fraction_of_stream_read)}%`);
  lines.push(`decode weight bandwidth ${pct(chromium)} of streaming read in Chromium, ${pct(node)} in Node (target ≥ 50 %)`);
  lines.push(`default build ÷ plain SIMD build: decode Node ${f(r.decodeVsSimdNode, 2)}×, Chromium ${f(r.decodeVsSimdChromium, 2)}×; prefill Node ${f(r.prefillVsSimdNode, 2)}×, Chromium ${f(r.prefillVsSimdChromium, 2)}×`);
  return lines.join('\n');
}
