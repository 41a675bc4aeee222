// Native llama.cpp on the benchmark GGUF: the ceiling for nibble's model
// section (issue #14). node-llama-cpp's prebuilt CPU binary (no build, no
// GPU, nothing downloaded at run time), one thread (or `threads`), the same prompts as
// nibble_run.mjs (token ids, one batch) and greedy decoding.
//
//   runLlamaCppBench({ modelPath, promptTokens: [64, 512], decodeTokens, runs, threads: 1 })
//     -> { version, build, loadMs, results: [{ promptTokens, prefillTokPerS, decodeTokPerS, prefillCpuTokPerS, decodeCpuTokPerS, ttftMs, runs }] }
//   node bench/model/llamacpp_bench.mjs <model.gguf> [--runs N]   (prints JSON)
//
// Per run, on the one context with its history cleared: ttft = from the
// call until the first generated token (the prompt's batch, then sampling);
// prefill tokens/s = prompt tokens / ttft (as nibble's promptMs, sampling
// included); decode tokens/s = the next decodeTokens − 1 tokens over their
// time; the same over the process's CPU time (prefillCpuTokPerS,
// decodeCpuTokPerS). End-of-sequence is not a stop: evaluate() yields whatever comes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { benchPrompt, median } from './nibble_run.mjs';

// The process's CPU ms: llama.cpp's threads and this process's own (idle
// while it waits): the CPU-time rates beside the wall-time ones.
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export async function runLlamaCppBench({ modelPath, promptTokens = [64, 512], decodeTokens = 64, runs = 3, threads = 1 }) {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const packageJson = path.join(path.dirname(fileURLToPath(import.meta.url)), '../node_modules/node-llama-cpp/package.json');
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8'));
  const llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error });
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const loadMs = performance.now() - t0;
  const longest = Math.max(...promptTokens);
  const context = await model.createContext({
    contextSize: longest + decodeTokens + 16, batchSize: longest, threads: { ideal: threads, min: threads },
  });
  try {
    const sequence = context.getSequence();
    const results = [];
    for (const n of promptTokens) {
      const measured = [];
      for (let r = 0; r < runs; r++) {
        await sequence.clearHistory();
        const start = performance.now(), startCpu = cpuMs();
        let first = 0, firstCpu = 0;
        let count = 0;
        for await (const token of sequence.evaluate(benchPrompt(n), { temperature: 0 })) {
          void token;
          if (count++ === 0) [first, firstCpu] = [performance.now(), cpuMs()];
          if (count === decodeTokens) break;
        }
        const end = performance.now(), endCpu = cpuMs();
        const ttftMs = first - start;
        measured.push({
          ttftMs, prefillTokPerS: (1000 * n) / ttftMs, decodeTokPerS: (1000 * (decodeTokens - 1)) / (end - first),
          prefillCpuTokPerS: (1000 * n) / (firstCpu - startCpu), decodeCpuTokPerS: (1000 * (decodeTokens - 1)) / (endCpu - firstCpu),
        });
      }
      results.push({
        promptTokens: n,
        ttftMs: median(measured.map((m) => m.ttftMs)),
        prefillTokPerS: median(measured.map((m) => m.prefillTokPerS)),
        decodeTokPerS: median(measured.map((m) => m.decodeTokPerS)),
        prefillCpuTokPerS: median(measured.map((m) => m.prefillCpuTokPerS)),
        decodeCpuTokPerS: median(measured.map((m) => m.decodeCpuTokPerS)),
        runs: measured,
      });
    }
    return { version, build: `node-llama-cpp ${version}, ${llama.buildType} binary, ${llama.gpu || 'cpu'}`, loadMs, results };
  } finally {
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf('--runs');
  const result = await runLlamaCppBench({ modelPath: path.resolve(args[0]), runs: runsAt >= 0 ? Number(args[runsAt + 1]) : 3 });
  console.log(JSON.stringify(result));
}
