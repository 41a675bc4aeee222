// How the model tests judge logits against stories260K.logits.json: largest
// difference, mean KL divergence KL(P_ref ‖ P_got) and top-1 agreement.
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
  // tokens -> { maxDiff, meanKl, top1 (agreeing positions), positions, worst }.
  function compareLogits(all, vocab, reference) {
    const positions = reference.positions;
    let maxDiff = 0, klSum = 0, top1 = 0, worst = null;
    positions.forEach((p, i) => {
      const got = all.subarray(i * vocab, (i + 1) * vocab);
      p.logits.forEach((want, t) => {
        const diff = Math.abs(got[t] - want);
        if (!(diff <= maxDiff)) {
          maxDiff = diff;
          worst = { position: i, token: t, want, got: got[t] };
        }
      });
      klSum += klDivergence(p.logits, got);
      top1 += argmax(p.logits) === argmax(got) ? 1 : 0;
    });
    return { maxDiff, meanKl: klSum / positions.length, top1, positions: positions.length, worst };
  }

  return { klDivergence, argmax, compareLogits };
});
