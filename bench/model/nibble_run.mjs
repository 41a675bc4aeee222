// nibble's side of the model benchmark, the same code in Node and in a page:
// load the benchmark GGUF, then per run and prompt length prefill a prompt
// (token ids, one batch through the GEMM kernels) and decode 64 tokens
// greedily (GEMV). Medians over `runs`; load is timed once per run from the
// source, then a short warm-up generation. ttft: the generation's own
// stats.ttftMs (from its start to its first token).
//
//   runNibbleModel(nibble, source, { runs, promptTokens: [64, 512], decodeTokens, threads, simd }) ->
//     { flavour, build, loadMs, weightBytes, results: [{ promptTokens, prefillTokPerS, decodeTokPerS, ttftMs, runs }] }
// simd: init()'s option (the first nibble call of the realm picks the build).

export const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

// A prompt of n ids: BOS then ordinary tokens (ids past the byte tokens).
export function benchPrompt(n) {
  return [1, ...Array.from({ length: n - 1 }, (_, i) => 300 + ((i * 37) % 4000))];
}

export async function runNibbleModel(nibble, source, { runs = 3, promptTokens = [64], decodeTokens = 64, threads, simd } = {}) {
  const { flavour } = await nibble.init(simd === undefined ? {} : { simd });
  const measured = promptTokens.map(() => []);
  const loads = [];
  let weightBytes = 0;
  let build = null;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const context = Math.max(...promptTokens) + decodeTokens;
    const model = await nibble.loadModel(source, { weights: 'q4_0', context, ...(threads ? { threads } : {}) });
    loads.push(performance.now() - t0);
    weightBytes = model.info.loadedBytes;
    build = model.info.build ?? build;
    try {
      // Warm-up: the engine compiles the kernels on first use (baseline
      // tier, then optimized in the background); timed runs should not.
      for await (const piece of model.generate(benchPrompt(8), { maxTokens: 4, temperature: 0, addBos: false })) void piece;
      for (const [i, n] of promptTokens.entries()) {
        const run = model.generate(benchPrompt(n), { maxTokens: decodeTokens, temperature: 0, addBos: false });
        for await (const piece of run) void piece;
        const stats = await run.stats;
        measured[i].push({
          ttftMs: stats.ttftMs,
          promptMs: stats.promptMs,
          generateMs: stats.generateMs,
          generatedTokens: stats.generatedTokens,
          prefillTokPerS: stats.promptTokensPerSecond,
          decodeTokPerS: stats.tokensPerSecond,
          stopReason: stats.stopReason,
        });
      }
    } finally {
      model.dispose();
    }
  }
  return {
    flavour,
    build,
    loadMs: median(loads),
    weightBytes,
    results: promptTokens.map((n, i) => ({
      promptTokens: n,
      prefillTokPerS: median(measured[i].map((x) => x.prefillTokPerS)),
      decodeTokPerS: median(measured[i].map((x) => x.decodeTokPerS)),
      ttftMs: median(measured[i].map((x) => x.ttftMs)),
      runs: measured[i],
    })),
  };
}
