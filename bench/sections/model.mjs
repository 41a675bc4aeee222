// Model benchmark (issues #4 item 8, #14 item 3, #11 item 5, #12 item 5):
// random-weight GGUF files in real models' shapes, written by our own GGUF
// writer (bench/model/bench_models.mjs: SmolLM2-135M's shape in Q4_0 and in
// the Q4_K_M mix, Qwen2.5-0.5B's in Q4_K_M). One thread. nibble in Node and
// in Chromium, in the same Chromium @wllama/wllama (llama.cpp compiled to
// wasm; both engines' pages driven over raw CDP, ../model/cdp_page.mjs, as
// Playwright's DevTools Network domain slowed their downloads), and native
// llama.cpp (node-llama-cpp's prebuilt binary) on the same file: load ms
// and nibble's peak heap during the load, prefill tokens/s and time to first
// token (64-token prompts; the main model also 512), decode tokens/s (64
// tokens), decode's effective weight bandwidth as a fraction of the
// streaming-read probe (from the matmul section of the same run). On the
// main model nibble runs twice in each: the build init() picks by default
// (relaxed SIMD where the engine has it; Node 20 gets
// --experimental-wasm-relaxed-simd) and the plain SIMD build as the baseline.
// W4A4 (issue #15 item 7): on the main model nibble in Node also decodes at
// precision 'w4a4' right after each w4a8 generation, same process and model;
// the ratio is the median of those pairs over the rounds (target ≥ 0.9×).
// Rounds (ctx.rounds, default 5): every model through every engine once per
// round; the table shows medians over the rounds, and every ratio is paired:
// the median of each round's own ratio (its range beside it), over CPU time
// where both sides have it (nibble, llama.cpp), else wall time (wllama,
// loads). ctx.models (run.mjs --models) picks models by id. The data's
// `runs` holds one row per model, engine, runtime, build and prompt length.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';

import { startServer } from '../../tests/browser/server.mjs';
import { RELAXED_SIMD_NODE_FLAGS } from '../bench_program.mjs';
import { benchModelFile, selectBenchModels } from '../model/bench_models.mjs';
import { launchCdpChromium, PAGE_WORK_TIMEOUT_MS } from '../model/cdp_page.mjs';
import { runLlamaCppBench } from '../model/llamacpp_bench.mjs';
import { median } from '../model/nibble_run.mjs';
import { droppedRounds, pairedSummary } from '../timing.mjs';
import { runWllamaBench } from '../model/wllama_bench.mjs';

export const name = 'model';
export const title = 'Model: SmolLM2-135M-shaped Q4_0 and Q4_K_M, Qwen2.5-0.5B-shaped Q4_K_M GGUFs, one thread: nibble (Node, Chromium) vs wllama (Chromium) and llama.cpp (native)';

async function nibbleInChromium(browser, modelFile, ctx, options) {
  const server = await startServer({
    root: ctx.repoRoot, mounts: { '/__bench_model__/': path.dirname(modelFile) }, crossOriginIsolated: true,
  });
  const modelUrl = `/__bench_model__/${path.basename(modelFile)}`;
  const page = await browser.newPage();
  try {
    // The page's CPU clock: its main thread's CPU time (CDP ThreadTime), where
    // one-thread nibble runs (nibble.html hands it to runNibbleModel).
    await page.send('Performance.enable');
    await page.exposeFunction('benchCpuMs', async () =>
      1000 * (await page.metrics('ThreadTime')).ThreadTime);
    await page.goto(new URL('bench/model/nibble.html', server.url).href, 'window.nibblePageReady === true');
    return await page.evaluate(([url, o]) => window.runNibble(url, o), [modelUrl, options], { timeoutMs: PAGE_WORK_TIMEOUT_MS });
  } finally {
    await page.close();
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

// One round's (or the merged) engine results -> rows of the `runs` format.
// The *_cpu_tps rates are over CPU time (nibble: its main thread in Node, the
// renderer's main thread in Chromium; llama.cpp: its process); wllama has
// wall time only (it runs in workers of its own).
function rowsOf(modelName, r) {
  const rows = [];
  const addRows = (engine, runtime, build, results, weightBytes = null) => {
    for (const x of results) {
      const gbps = weightBytes ? (x.decodeTokPerS * weightBytes) / 1e9 : null;
      rows.push({
        engine, runtime, build, model: modelName, threads: 1, prompt_tokens: x.promptTokens,
        prefill_tps: x.prefillTokPerS, decode_tps: x.decodeTokPerS, ttft_ms: x.ttftMs ?? null,
        prefill_cpu_tps: x.prefillCpuTokPerS ?? null, decode_cpu_tps: x.decodeCpuTokPerS ?? null,
        decode_weight_gbps: gbps,
      });
    }
  };
  for (const [runtime, x] of [['node', r.node], ['node', r.nodeSimd], ['chromium', r.chromium], ['chromium', r.chromiumSimd]]) {
    if (x) addRows('nibble', runtime, x.flavour, x.results, x.weightBytes);
  }
  addRows('wllama', 'chromium', `wllama ${r.wllama.version}`,
    [{ promptTokens: r.wllama.promptTokens, prefillTokPerS: r.wllama.prefillTokPerS, decodeTokPerS: r.wllama.decodeTokPerS }]);
  addRows('llama.cpp', 'native', r.native.build, r.native.results);
  return rows;
}

// The rows of one side of a ratio: which engine and runtime (nibble's
// default build unless `simd`), at which prompt length.
const SIDES = {
  node: { engine: 'nibble', runtime: 'node' },
  nodeSimd: { engine: 'nibble', runtime: 'node', simd: true },
  chromium: { engine: 'nibble', runtime: 'chromium' },
  chromiumSimd: { engine: 'nibble', runtime: 'chromium', simd: true },
  native: { engine: 'llama.cpp', runtime: 'native' },
  wllama: { engine: 'wllama', runtime: 'chromium' },
};
function findSide(rows, round, side, promptTokens) {
  const s = SIDES[side];
  const build = s.engine === 'nibble' ? (s.simd ? round[`${s.runtime}Simd`] : round[s.runtime])?.flavour : null;
  if (s.engine === 'nibble' && build == null) return null;
  return rows.find((x) => x.engine === s.engine && x.runtime === s.runtime && (build == null || x.build === build) &&
    x.prompt_tokens === promptTokens) ?? null;
}

// The ratios the issues set targets on: [name, side a, its prompt length,
// side b, its prompt length, rate]. Each is the median over rounds of the
// round's own a ÷ b (both measured in the same round, minutes apart at
// most), over CPU time where both sides have it, else wall time.
const RATIOS = [
  ['decodeVsWllama', 'chromium', 64, 'wllama', 64, 'decode'],
  ['prefillVsWllama', 'chromium', 64, 'wllama', 64, 'prefill'],
  ['decodeVsSimdNode', 'node', 64, 'nodeSimd', 64, 'decode'],
  ['decodeVsSimdChromium', 'chromium', 64, 'chromiumSimd', 64, 'decode'],
  ['prefillVsSimdNode', 'node', 64, 'nodeSimd', 64, 'prefill'],
  ['prefillVsSimdChromium', 'chromium', 64, 'chromiumSimd', 64, 'prefill'],
  ['prefillVsNativeNode', 'node', 64, 'native', 64, 'prefill'],
  ['prefillVsNativeChromium', 'chromium', 64, 'native', 64, 'prefill'],
  ['decodeVsNativeNode', 'node', 64, 'native', 64, 'decode'],
  ['prefill512Vs64Node', 'node', 512, 'node', 64, 'prefill'],
  ['prefill512Vs64Chromium', 'chromium', 512, 'chromium', 64, 'prefill'],
  ['prefill512VsNativeNode', 'node', 512, 'native', 512, 'prefill'],
];

// a ÷ b of a rate in every round: CPU time where every round has it on both sides.
function pairedRate(pairs, rate) {
  const cpu = `${rate}_cpu_tps`, wall = `${rate}_tps`;
  const clock = pairs.every(([a, b]) => a?.[cpu] && b?.[cpu]) ? 'cpu' : 'wall';
  const key = clock === 'cpu' ? cpu : wall;
  return pairedSummary(pairs.map(([a, b]) => (a && b ? a[key] / b[key] : null)), clock);
}

// One model's rounds -> { rows (medians over rounds, the `runs` format),
// roundRows (each round's rows), loadMs, loadMemory, ratios }.
function summarizeModel(modelFile, rounds, streamGbps) {
  const merged = (key) => mergeRounds(rounds.map((r) => r[key]));
  const mergedRound = Object.fromEntries(['node', 'nodeSimd', 'native', 'chromium', 'chromiumSimd', 'wllama'].map((k) => [k, merged(k)]));
  const { node, nodeSimd, native, chromium, chromiumSimd, wllama } = mergedRound;
  const modelName = path.basename(modelFile);
  const rows = rowsOf(modelName, mergedRound);
  for (const row of rows) row.fraction_of_stream_read = row.decode_weight_gbps && streamGbps ? row.decode_weight_gbps / streamGbps : null;
  const w4a4Pairs = rounds.flatMap((r) => r.node?.compared?.runs ?? []);
  if (w4a4Pairs.length) {
    const gbps = (median(w4a4Pairs.map((x) => x.decodeTokPerS)) * node.weightBytes) / 1e9;
    rows.push({
      engine: 'nibble', runtime: 'node', build: `${node.flavour} w4a4`, model: modelName, threads: 1,
      prompt_tokens: node.compared.promptTokens, prefill_tps: median(w4a4Pairs.map((x) => x.prefillTokPerS)),
      decode_tps: median(w4a4Pairs.map((x) => x.decodeTokPerS)), ttft_ms: null, prefill_cpu_tps: null, decode_cpu_tps: null,
      decode_weight_gbps: gbps, fraction_of_stream_read: streamGbps ? gbps / streamGbps : null,
    });
  }
  const roundRows = rounds.map((r) => rowsOf(modelName, r));
  const ratios = {};
  for (const [name, a, na, b, nb, rate] of RATIOS) {
    const pairs = rounds.map((r, i) => [findSide(roundRows[i], r, a, na), findSide(roundRows[i], r, b, nb)]);
    ratios[name] = pairs.some(([x, y]) => x && y) ? pairedRate(pairs, rate) : null;
  }
  ratios.loadVsWllama = pairedSummary(rounds.map((r) => r.wllama.loadMs / r.chromium.loadMs), 'wall');
  ratios.w4a4DecodeVsW4a8Node = w4a4Pairs.length ? pairedSummary(w4a4Pairs.map((x) => x.decodeRatio), 'wall') : null;
  return {
    rows,
    roundRows,
    loadMs: { node: node.loadMs, nodeSimd: nodeSimd?.loadMs ?? null, chromium: chromium.loadMs,
      chromiumSimd: chromiumSimd?.loadMs ?? null, wllama: wllama.loadMs, native: native.loadMs },
    loadMemory: { node: loadMemory(node), chromium: loadMemory(chromium) },
    ratios,
  };
}

// Issue #11 item 5: the Q4_K_M file's decode moves ≥ 90 % of the Q4_0 file's
// effective GB/s (file bytes × decode tokens/s), per runtime: the median
// over rounds of each round's ratio, over CPU time.
function q4kmBandwidthVsQ4_0(models, summaries, measured) {
  const i40 = models.findIndex((m) => m.id === 'smollm2-q4_0'), ikm = models.findIndex((m) => m.id === 'smollm2-q4_k_m');
  if (i40 < 0 || ikm < 0) return null;
  const out = {};
  for (const runtime of ['node', 'chromium']) {
    const pairs = measured[ikm].map((round, r) => [ikm, i40].map((i) => {
      const row = findSide(summaries[i].roundRows[r], measured[i][r], runtime, 64);
      return row && { decode_cpu_tps: row.decode_cpu_tps * models[i].bytes, decode_tps: row.decode_tps * models[i].bytes };
    }));
    out[runtime] = pairedRate(pairs, 'decode');
  }
  return out;
}

export async function run(ctx) {
  const selected = selectBenchModels(ctx.models ?? null);
  const files = selected.map((m) => benchModelFile(m, ctx.repoRoot, ctx.log));
  // Rounds of every model and engine in turn, medians over the rounds: on
  // a shared machine a change in load then hits every engine and model alike.
  const rounds = ctx.rounds ?? (ctx.quick ? 1 : 5);
  const streamGbps = ctx.results?.matmul?.stream_read?.gbps ?? null;
  const measured = selected.map(() => []);
  const browser = await launchCdpChromium();
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
  const summaries = selected.map((model, i) => summarizeModel(files[i], measured[i], streamGbps));
  for (const [i, model] of selected.entries()) {
    const m = summaries[i];
    rows.push(...m.rows);
    const nibbleBuild = (runtime) => m.rows.find((r) => r.engine === 'nibble' && r.runtime === runtime)?.build ?? null;
    models.push({
      id: model.id, title: model.title, file: path.relative(ctx.repoRoot, files[i]), bytes: statSync(files[i]).size,
      rounds, defaultBuild: { node: nibbleBuild('node'), chromium: nibbleBuild('chromium') },
      loadMs: m.loadMs, loadMemory: m.loadMemory, ratios: m.ratios,
    });
  }
  return { streamReadGbps: streamGbps, models, runs: rows, q4kmBandwidthVsQ4_0: q4kmBandwidthVsQ4_0(models, summaries, measured) };
}

const f = (v, d = 1) => (v == null ? '-' : v.toFixed(d));
// A paired ratio: its median over rounds, the range and the clock.
const fr = (x, scale = 1, unit = '×') => (x == null ? '-'
  : `${f(scale * x.median, 2)}${unit} [${f(scale * x.min, 2)}–${f(scale * x.max, 2)}, ${x.clock}]${droppedRounds(x)}`);

function formatModel(m, rows) {
  const table = [['', 'prompt', 'prefill tok/s', '(CPU)', 'ttft ms', 'decode tok/s', '(CPU)', 'decode GB/s', 'of stream read']];
  for (const r of rows.filter((x) => x.model === path.basename(m.file))) {
    table.push([`${r.engine} ${r.build}, ${r.runtime}`, String(r.prompt_tokens), f(r.prefill_tps), f(r.prefill_cpu_tps), f(r.ttft_ms),
      f(r.decode_tps), f(r.decode_cpu_tps), f(r.decode_weight_gbps, 2),
      r.fraction_of_stream_read == null ? '-' : `${f(100 * r.fraction_of_stream_read)}%`]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = [`-- ${m.title}: ${m.file} (${(m.bytes / 2 ** 20).toFixed(1)} MiB), medians of ${m.rounds} rounds`];
  lines.push(...table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')));
  const r = m.ratios;
  const l = m.loadMs;
  const mem = (x) => `${(x.peakHeapBytes / 2 ** 20).toFixed(1)} MiB peak / ${(x.heapBytes / 2 ** 20).toFixed(1)} MiB loaded = ${f(x.peakRatio, 3)}×`;
  lines.push(`load ms: nibble Node ${f(l.node, 0)}, Chromium ${f(l.chromium, 0)}; wllama ${f(l.wllama, 0)}; llama.cpp native ${f(l.native, 0)}`);
  lines.push(`nibble heap during the load (target peak ≤ 1.25×): Node ${mem(m.loadMemory.node)}; Chromium ${mem(m.loadMemory.chromium)}`);
  lines.push('ratios: medians over rounds of each round\'s own ratio [its range over the rounds, the clock: CPU or wall time]');
  lines.push(`nibble ÷ wllama in Chromium: decode ${fr(r.decodeVsWllama)}, prefill ${fr(r.prefillVsWllama)}, load ${fr(r.loadVsWllama)} faster`);
  lines.push(`nibble ÷ llama.cpp native, 64-token prompt: prefill Node ${fr(r.prefillVsNativeNode)}, Chromium ${fr(r.prefillVsNativeChromium)}; decode Node ${fr(r.decodeVsNativeNode)}`);
  if (r.prefill512Vs64Node != null) {
    lines.push(`512-token prefill ÷ native, Node ${fr(r.prefill512VsNativeNode)} (target ≥ 0.6×); 512-token ÷ 64-token rate: Node ${fr(r.prefill512Vs64Node)}, Chromium ${fr(r.prefill512Vs64Chromium)} (target ≥ 0.8×)`);
  }
  const pct = (runtime) => {
    const x = rows.find((y) => y.model === path.basename(m.file) && y.engine === 'nibble' && y.runtime === runtime);
    return x?.fraction_of_stream_read == null ? '-' : `${f(100 * x.fraction_of_stream_read)}%`;
  };
  lines.push(`decode weight bandwidth ${pct('chromium')} of streaming read in Chromium, ${pct('node')} in Node (target ≥ 50 %)`);
  if (r.w4a4DecodeVsW4a8Node != null) {
    lines.push(`W4A4 ÷ W4A8 decode, same Node process, paired generations: ${fr(r.w4a4DecodeVsW4a8Node)} (target ≥ 0.9×)`);
  }
  if (r.decodeVsSimdNode != null) {
    lines.push(`default build ÷ plain SIMD build (target ≤ 1.5×): decode Node ${fr(r.decodeVsSimdNode)}, Chromium ${fr(r.decodeVsSimdChromium)}; prefill Node ${fr(r.prefillVsSimdNode)}, Chromium ${fr(r.prefillVsSimdChromium)}`);
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
    lines.push('', `SmolLM2 shape, decode's file bytes × tok/s, Q4_K_M ÷ Q4_0 (target ≥ 90 %): Node ${fr(b.node, 100, ' %')}; Chromium ${fr(b.chromium, 100, ' %')}`);
  }
  return lines.join('\n');
}
