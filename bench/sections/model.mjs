// Model benchmark (issues #4 item 8, #14 item 3, #11 item 5, #12 item 5):
// random-weight GGUF files in real models' shapes, written by our own GGUF
// writer (bench/model/bench_models.mjs: SmolLM2-135M's shape in Q4_0 and in
// the Q4_K_M mix, Qwen2.5-0.5B's in Q4_K_M). One thread. nibble in Node and
// in Chromium, in the same Chromium @wllama/wllama (llama.cpp compiled to
// wasm), and native llama.cpp (node-llama-cpp's prebuilt binary) on the same
// file: load ms and nibble's peak heap during the load, prefill tokens/s and
// time to first token (64-token prompts; the main model also 512), decode
// tokens/s (64 tokens), decode's effective weight bandwidth as a fraction of
// the streaming-read probe (from the matmul section of the same run). On the
// main model nibble runs twice in each: the build init() picks by default
// (relaxed SIMD where the engine has it; Node 20 gets
// --experimental-wasm-relaxed-simd) and the plain SIMD build as the baseline.
// W4A4 (issue #15 item 7): on the main model nibble in Node also decodes at
// precision 'w4a4' right after each w4a8 generation, same process and model;
// the ratio is the median of those pairs over the rounds (target ≥ 0.9×).
// Rounds: every model through every engine once per round, medians over
// the rounds. ctx.models (run.mjs --models) picks models by id. The data's
// `runs` holds one row per model, engine, runtime, build and prompt length.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';

import { launchChromium } from '../../tests/browser/chromium.mjs';
import { startServer } from '../../tests/browser/server.mjs';
import { RELAXED_SIMD_NODE_FLAGS } from '../bench_program.mjs';
import { benchModelFile, selectBenchModels } from '../model/bench_models.mjs';
import { runLlamaCppBench } from '../model/llamacpp_bench.mjs';
import { median } from '../model/nibble_run.mjs';
import { runWllamaBench } from '../model/wllama_bench.mjs';

export const name = 'model';
export const title = 'Model: SmolLM2-135M-shaped Q4_0 and Q4_K_M, Qwen2.5-0.5B-shaped Q4_K_M GGUFs, one thread: nibble (Node, Chromium) vs wllama (Chromium) and llama.cpp (native)';

async function nibbleInChromium(browser, modelFile, ctx, options) {
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
    return await page.evaluate(([url, o]) => window.runNibble(url, o), [modelUrl, options]);
  } finally {
    await page.context().close();
    await server.close();
  }
}

// nibble's heap during its first load: what the loaded model holds and the
// high-water mark (issue #12: peak ≤ 1.25× the loaded model).
const loadMemory = (r) => ({
  heapBytes: r.loadHeapBytes, peakHeapBytes: r.loadPeakHeapBytes,
  peakRatio: r.loadHeapBytes ? r.loadPeakHeapBytes / r.loadHeapBytes : null,
});

// One round of one model: every engine once (one load, one timed generation
// per prompt length each).
async function measureRound(model, modelFile, ctx, browser) {
  const script = path.join(ctx.repoRoot, 'bench/model/nibble_node.mjs');
  const nibbleOptions = { runs: 1, promptTokens: model.prompts, ...(model.weights ? { weights: model.weights } : {}) };
  const inNode = (simd, nodeFlags = [], extra = []) => JSON.parse(execFileSync(process.execPath,
    [...nodeFlags, script, modelFile, '--runs', '1', '--simd', String(simd), '--prompts', model.prompts.join(','),
      ...(model.weights ? ['--weights', model.weights] : []), ...extra],
    { encoding: 'utf8', maxBuffer: 1 << 26 }));
  ctx.log(`${model.id}: nibble in Node, llama.cpp native, nibble and wllama in Chromium ...`);
  const node = inNode('auto', RELAXED_SIMD_NODE_FLAGS, model.baselineBuild ? ['--compare-precision', 'w4a4'] : []);
  const nodeSimd = model.simdBuild ? inNode(true) : null;
  const native = await runLlamaCppBench({ modelPath: modelFile, promptTokens: model.prompts, runs: 1 });
  const chromium = await nibbleInChromium(browser, modelFile, ctx, { ...nibbleOptions, simd: 'auto' });
  const chromiumSimd = model.simdBuild ? await nibbleInChromium(browser, modelFile, ctx, { ...nibbleOptions, simd: true }) : null;
  const wllama = await runWllamaBench({ modelPath: modelFile, runs: 1, browser, bos: model.bos });
  return { node, nodeSimd, native, chromium, chromiumSimd, wllama };
}

// One engine's results of every round -> the first round's, with medians
// over the rounds of its load ms, rates and ttft (top level and per prompt
// length in `results`). nibble's load memory stays the first round's (each
// round loads in a fresh process or page).
const RATES = ['loadMs', 'prefillTokPerS', 'decodeTokPerS', 'ttftMs'];
function mergeRounds(rounds) {
  if (!rounds[0]) return null;
  const merged = { ...rounds[0] };
  for (const key of RATES) if (key in merged) merged[key] = median(rounds.map((r) => r[key]));
  if (merged.results) {
    merged.results = merged.results.map((first, i) => {
      const out = { ...first, runs: rounds.flatMap((r) => r.results[i].runs ?? []) };
      for (const key of RATES) if (key in first) out[key] = median(rounds.map((r) => r.results[i][key]));
      return out;
    });
  }
  return merged;
}

// One model's rounds -> { rows (the `runs` format), loadMs, loadMemory, ratios }.
function summarizeModel(modelFile, rounds, streamGbps) {
  const merged = (key) => mergeRounds(rounds.map((r) => r[key]));
  const [node, nodeSimd, native, chromium, chromiumSimd, wllama] =
    ['node', 'nodeSimd', 'native', 'chromium', 'chromiumSimd', 'wllama'].map(merged);
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
  for (const [runtime, r] of [['node', node], ['node', nodeSimd], ['chromium', chromium], ['chromium', chromiumSimd]]) {
    if (r) addRows('nibble', runtime, r.flavour, r.results, r.weightBytes);
  }
  const w4a4Pairs = rounds.flatMap((r) => r.node?.compared?.runs ?? []);
  if (w4a4Pairs.length) {
    addRows('nibble', 'node', `${node.flavour} w4a4`, [{ promptTokens: node.compared.promptTokens,
      prefillTokPerS: median(w4a4Pairs.map((x) => x.prefillTokPerS)), decodeTokPerS: median(w4a4Pairs.map((x) => x.decodeTokPerS)) }],
    node.weightBytes);
  }
  addRows('wllama', 'chromium', `wllama ${wllama.version}`,
    [{ promptTokens: wllama.promptTokens, prefillTokPerS: wllama.prefillTokPerS, decodeTokPerS: wllama.decodeTokPerS }]);
  addRows('llama.cpp', 'native', native.build, native.results);

  const find = (engine, runtime, build, n) => rows.find((r) => r.engine === engine && r.runtime === runtime &&
    (build == null || r.build === build) && r.prompt_tokens === n);
  const ratio = (a, b, key) => (a && b && a[key] && b[key] ? a[key] / b[key] : null);
  const at = (n) => ({
    nodeRelaxed: find('nibble', 'node', node.flavour, n),
    nodeSimd: nodeSimd && find('nibble', 'node', nodeSimd.flavour, n),
    chromium: find('nibble', 'chromium', chromium.flavour, n),
    chromiumSimd: chromiumSimd && find('nibble', 'chromium', chromiumSimd.flavour, n),
    native: find('llama.cpp', 'native', null, n),
    wllama: find('wllama', 'chromium', null, n),
  });
  const r64 = at(64), r512 = at(512);
  return {
    rows,
    loadMs: { node: node.loadMs, nodeSimd: nodeSimd?.loadMs ?? null, chromium: chromium.loadMs,
      chromiumSimd: chromiumSimd?.loadMs ?? null, wllama: wllama.loadMs, native: native.loadMs },
    loadMemory: { node: loadMemory(node), chromium: loadMemory(chromium) },
    ratios: {
      decodeVsWllama: ratio(r64.chromium, r64.wllama, 'decode_tps'),
      prefillVsWllama: ratio(r64.chromium, r64.wllama, 'prefill_tps'),
      loadVsWllama: wllama.loadMs / chromium.loadMs,
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
      w4a4DecodeVsW4a8Node: w4a4Pairs.length ? median(w4a4Pairs.map((x) => x.decodeRatio)) : null,
    },
  };
}

// Issue #11 item 5: the Q4_K_M file's decode moves ≥ 90 % of the Q4_0 file's
// effective GB/s (file bytes × decode tokens/s), per runtime, same run.
function q4kmBandwidthVsQ4_0(models, runs) {
  const q40 = models.find((m) => m.id === 'smollm2-q4_0'), q4km = models.find((m) => m.id === 'smollm2-q4_k_m');
  if (!q40 || !q4km) return null;
  const gbps = (m, runtime) => {
    const r = runs.find((x) => x.engine === 'nibble' && x.runtime === runtime && x.model === path.basename(m.file) &&
      x.build === m.defaultBuild[runtime] && x.prompt_tokens === 64);
    return r ? (m.bytes * r.decode_tps) / 1e9 : null;
  };
  const out = {};
  for (const runtime of ['node', 'chromium']) {
    const a = gbps(q4km, runtime), b = gbps(q40, runtime);
    out[runtime] = { q4_k_m_gbps: a, q4_0_gbps: b, ratio: a && b ? a / b : null };
  }
  return out;
}

export async function run(ctx) {
  const selected = selectBenchModels(ctx.models ?? null);
  const files = selected.map((m) => benchModelFile(m, ctx.repoRoot, ctx.log));
  // Rounds of every model and engine in turn, medians over the rounds: on
  // a shared machine a change in load then hits every engine and model alike.
  const rounds = ctx.quick ? 1 : 3;
  const streamGbps = ctx.results?.matmul?.stream_read?.gbps ?? null;
  const measured = selected.map(() => []);
  const browser = await launchChromium();
  try {
    for (let round = 0; round < rounds; round++) {
      ctx.log(`round ${round + 1} of ${rounds}`);
      for (const [i, model] of selected.entries()) measured[i].push(await measureRound(model, files[i], ctx, browser));
    }
  } finally {
    await browser.close();
  }
  const models = [];
  const rows = [];
  for (const [i, model] of selected.entries()) {
    const m = summarizeModel(files[i], measured[i], streamGbps);
    rows.push(...m.rows);
    const nibbleBuild = (runtime) => m.rows.find((r) => r.engine === 'nibble' && r.runtime === runtime)?.build ?? null;
    models.push({
      id: model.id, title: model.title, file: path.relative(ctx.repoRoot, files[i]), bytes: statSync(files[i]).size,
      rounds, defaultBuild: { node: nibbleBuild('node'), chromium: nibbleBuild('chromium') },
      loadMs: m.loadMs, loadMemory: m.loadMemory, ratios: m.ratios,
    });
  }
  return { streamReadGbps: streamGbps, models, runs: rows, q4kmBandwidthVsQ4_0: q4kmBandwidthVsQ4_0(models, rows) };
}

const f = (v, d = 1) => (v == null ? '-' : v.toFixed(d));

function formatModel(m, rows) {
  const table = [['', 'prompt', 'prefill tok/s', 'ttft ms', 'decode tok/s', 'decode GB/s', 'of stream read']];
  for (const r of rows.filter((x) => x.model === path.basename(m.file))) {
    table.push([`${r.engine} ${r.build}, ${r.runtime}`, String(r.prompt_tokens), f(r.prefill_tps), f(r.ttft_ms),
      f(r.decode_tps), f(r.decode_weight_gbps, 2), r.fraction_of_stream_read == null ? '-' : `${f(100 * r.fraction_of_stream_read)}%`]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = [`-- ${m.title}: ${m.file} (${(m.bytes / 2 ** 20).toFixed(1)} MiB), medians of ${m.rounds} rounds`];
  lines.push(...table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')));
  const r = m.ratios;
  const l = m.loadMs;
  const mem = (x) => `${(x.peakHeapBytes / 2 ** 20).toFixed(1)} MiB peak / ${(x.heapBytes / 2 ** 20).toFixed(1)} MiB loaded = ${f(x.peakRatio, 3)}×`;
  lines.push(`load ms: nibble Node ${f(l.node, 0)}, Chromium ${f(l.chromium, 0)}; wllama ${f(l.wllama, 0)}; llama.cpp native ${f(l.native, 0)}`);
  lines.push(`nibble heap during the load (target peak ≤ 1.25×): Node ${mem(m.loadMemory.node)}; Chromium ${mem(m.loadMemory.chromium)}`);
  lines.push(`nibble ÷ wllama in Chromium: decode ${f(r.decodeVsWllama, 2)}×, prefill ${f(r.prefillVsWllama, 2)}×, load ${f(r.loadVsWllama, 2)}× faster`);
  lines.push(`nibble ÷ llama.cpp native, 64-token prompt: prefill Node ${f(r.prefillVsNativeNode, 2)}×, Chromium ${f(r.prefillVsNativeChromium, 2)}×; decode Node ${f(r.decodeVsNativeNode, 2)}×`);
  if (r.prefill512Vs64Node != null) {
    lines.push(`512-token prefill ÷ native, Node ${f(r.prefill512VsNativeNode, 2)}× (target ≥ 0.6×); 512-token ÷ 64-token rate: Node ${f(r.prefill512Vs64Node, 2)}×, Chromium ${f(r.prefill512Vs64Chromium, 2)}× (target ≥ 0.8×)`);
  }
  const pct = (runtime) => {
    const x = rows.find((y) => y.model === path.basename(m.file) && y.engine === 'nibble' && y.runtime === runtime);
    return x?.fraction_of_stream_read == null ? '-' : `${f(100 * x.fraction_of_stream_read)}%`;
  };
  lines.push(`decode weight bandwidth ${pct('chromium')} of streaming read in Chromium, ${pct('node')} in Node (target ≥ 50 %)`);
  if (r.w4a4DecodeVsW4a8Node != null) {
    lines.push(`W4A4 ÷ W4A8 decode, same Node process, paired generations: ${f(r.w4a4DecodeVsW4a8Node, 3)}× (target ≥ 0.9×)`);
  }
  if (r.decodeVsSimdNode != null) {
    lines.push(`default build ÷ plain SIMD build: decode Node ${f(r.decodeVsSimdNode, 2)}×, Chromium ${f(r.decodeVsSimdChromium, 2)}×; prefill Node ${f(r.prefillVsSimdNode, 2)}×, Chromium ${f(r.prefillVsSimdChromium, 2)}×`);
  }
  return lines;
}

// Each model's targets against wllama (decode, prefill, load), by issue.
const WLLAMA_TARGETS = {
  'smollm2-q4_0': 'targets (#4, #14): decode ≥ 5×, prefill ≥ 10×',
  'smollm2-q4_k_m': 'target (#11): decode ≥ 10×',
  'qwen2.5-0.5b-q4_k_m': 'targets (#12): decode ≥ 8×, prefill ≥ 10×, load ≥ 4×',
};

export function format(data) {
  const lines = [`streaming read ${f(data.streamReadGbps, 2)} GB/s`];
  for (const m of data.models) {
    lines.push('', ...formatModel(m, data.runs), `wllama ${WLLAMA_TARGETS[m.id]}`);
  }
  const b = data.q4kmBandwidthVsQ4_0;
  if (b) {
    const side = (x) => `${f(x.q4_k_m_gbps, 3)} ÷ ${f(x.q4_0_gbps, 3)} GB/s = ${x.ratio == null ? '-' : `${f(100 * x.ratio)}%`}`;
    lines.push('', `SmolLM2 shape, decode's file bytes × tok/s, Q4_K_M ÷ Q4_0 (target ≥ 90 %): Node ${side(b.node)}; Chromium ${side(b.chromium)}`);
  }
  return lines.join('\n');
}
