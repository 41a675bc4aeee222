// How the model tests judge logits against stories260K.logits.json and
// llama.cpp's logits of the fixtures in tests/fixtures/llamacpp: largest
// difference, KL divergence KL(P_ref ‖ P_got) (mean and largest over the
// positions) and top-1 agreement, and the bounds they must hold.
// Loads with require() in Node and as a classic <script> in a browser
// (defines globalThis.nibbleModelReference).
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.nibbleModelReference = factory();
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  function logSoftmax(logits) {
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let sum = 0;
    for (const v of logits) sum += Math.exp(v - max);
    const log = Math.log(sum) + max;
    return Array.from(logits, (v) => v - log);
  }

  // KL(softmax(p) ‖ softmax(q))
  function klDivergence(pLogits, qLogits) {
    const lp = logSoftmax(pLogits), lq = logSoftmax(qLogits);
    let kl = 0;
    for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
    return kl;
  }

  function argmax(values) {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }

  // all: logits [positions, vocab] from the model for the reference's input
  // tokens -> { maxDiff, meanKl, maxKl (the largest KL at one position, at
  // position maxKlPosition), top1 (agreeing positions), positions, worst }.
  // Broken logits cannot look good: a NaN, an infinity or a missing value
  // makes maxDiff and meanKl Infinity (the worst value sticks) and its
  // position count as a top-1 disagreement; an array of the wrong length
  // gives Infinity outright, and so does a reference without positions
  // (nothing compared must not pass).
  function compareLogits(all, vocab, reference) {
    const positions = reference.positions;
    if (positions.length === 0 || all.length !== positions.length * vocab || positions.some((p) => p.logits.length !== vocab)) {
      return { maxDiff: Infinity, meanKl: Infinity, maxKl: Infinity, maxKlPosition: 0, top1: 0, positions: positions.length, worst: { error: `got ${all.length} logits, want ${positions.length} × ${vocab}` } };
    }
    let maxDiff = 0, klSum = 0, maxKl = 0, maxKlPosition = 0, top1 = 0, worst = null;
    positions.forEach((p, i) => {
      const got = all.subarray(i * vocab, (i + 1) * vocab);
      p.logits.forEach((want, t) => {
        const diff = Math.abs(got[t] - want);
        if (!(diff <= maxDiff) && maxDiff !== Infinity) {
          maxDiff = Number.isFinite(diff) ? diff : Infinity;
          worst = { position: i, token: t, want, got: String(got[t]) };
        }
      });
      const kl = klDivergence(p.logits, got);
      const sticky = Number.isFinite(kl) ? kl : Infinity;
      klSum += sticky;
      if (!(sticky <= maxKl) && maxKl !== Infinity) {
        maxKl = sticky;
        maxKlPosition = i;
      }
      top1 += got.every(Number.isFinite) && argmax(p.logits) === argmax(got) ? 1 : 0;
    });
    return { maxDiff, meanKl: klSum / positions.length, maxKl, maxKlPosition, top1, positions: positions.length, worst };
  }

  // The failures of a compareLogits() result against bounds { maxDiff,
  // meanKl, maxKl, top1 } (each optional); [] when all hold. Written
  // !(x <= bound), so that a NaN fails.
  function logitsFailures(result, bounds) {
    const failures = [];
    if ('maxDiff' in bounds && !(result.maxDiff <= bounds.maxDiff)) {
      failures.push(`logits differ by ${result.maxDiff} (bound ${bounds.maxDiff}): ${JSON.stringify(result.worst)}`);
    }
    if ('meanKl' in bounds && !(result.meanKl <= bounds.meanKl)) {
      failures.push(`mean KL ${result.meanKl} (bound ${bounds.meanKl})`);
    }
    if ('maxKl' in bounds && !(result.maxKl <= bounds.maxKl)) {
      failures.push(`KL ${result.maxKl} at position ${result.maxKlPosition} (bound at every position ${bounds.maxKl})`);
    }
    if ('top1' in bounds && !(result.top1 >= bounds.top1)) {
      failures.push(`top-1 agreement ${result.top1}/${result.positions} (bound ${bounds.top1})`);
    }
    return failures;
  }

  // The llama.cpp fixtures (tests/fixtures/llamacpp): a *.logits.json
  // ({ tokens, logits: [position][vocab] }) as a compareLogits reference.
  function llamaCppReference(json) {
    return { positions: json.logits.map((logits, i) => ({ input_token: json.tokens[i], logits })) };
  }

  // The bounds of tests/fixtures/llamacpp/README.md for a fixture file, by
  // its file type (the name's last part: llama-q4_k_m.gguf -> q4_k_m).
  function llamaCppBounds(fileName) {
    const type = /-([a-z0-9_]+)\.gguf$/.exec(fileName)[1];
    if (type === 'f16') return { maxDiff: 0.05, meanKl: 2e-5, maxKl: 1e-4 };
    if (type === 'q8_0') return { maxDiff: 1.0, meanKl: 0.01, maxKl: 0.03 };
    return { maxDiff: 1.5, meanKl: 0.015, maxKl: 0.05 }; // the 3-6-bit types and mixes
  }

  // The fixtures also checked one token at a time through the KV cache
  // (logits(tokens, { batch: 1 })), out of `files` (the fixture names): the
  // LLaMA F16 and Q4_K_M files, every other architecture's Q4_K_M file (their
  // sliding windows are shorter than the 16 tokens) and Llama 3's rope_freqs.
  function tokenByTokenFixtures(files) {
    return ['llama-f16.gguf', 'llama-q4_k_m.gguf',
      ...files.filter((f) => !f.startsWith('llama-') && f.endsWith('-q4_k_m.gguf')), 'llama-rope-freqs-q4_k_m.gguf'];
  }

  return { klDivergence, argmax, compareLogits, logitsFailures, llamaCppReference, llamaCppBounds, tokenByTokenFixtures };
});
