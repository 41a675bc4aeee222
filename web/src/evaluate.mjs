// evaluate(model, text, options): how well a model predicts a text, scored
// as llama.cpp's llama-perplexity scores it, and, given a reference model,
// how far the model's next-token distributions are from the reference's
// (llama-perplexity --kl-divergence). The figures and their standard errors
// follow that tool's definitions, so a quantized file scored here and there
// gives the same numbers (tests/fixtures/quality/README.md).
//
// Windowing: windows.mjs cuts the text's token ids into windows of
// `context` tokens. Only each window's second half is scored: the logits at
// positions context/2 .. context−2 predict the tokens after them,
// context − 1 − context/2 per window.
import { rangeError, typeError } from './errors.mjs';
import { macrotask } from './generation.mjs';
import { throwIfAborted } from './sources.mjs';
import { checkEvaluateOptions, describe } from './validate.mjs';
import { DEFAULT_CONTEXT, cutWindows, textIds } from './windows.mjs';

// llama.cpp keeps the reference log-probabilities only down to 16 nats below
// the top one and leaves vocabulary entries at or below −16 out of the KL sum.
const KL_FLOOR = -16;

// (sum, sum of squares, count) -> [mean, standard error of the mean], as
// llama-perplexity computes them (no error below 11 values).
function meanAndError(sum, sum2, count) {
  if (count < 1) return [0, 0];
  const mean = sum / count;
  const variance = sum2 / count - mean * mean;
  return [mean, variance > 0 && count > 10 ? Math.sqrt(variance / (count - 1)) : 0];
}

// Linear interpolation at fraction·(n − 1) of ascending values.
function percentile(sorted, fraction) {
  const at = fraction * (sorted.length - 1);
  const i = Math.floor(at), t = at - i;
  return (1 - t) * sorted[i] + t * sorted[Math.min(i + 1, sorted.length - 1)];
}

// The log-softmax of a row of logits: { max, argmax (first on ties), logSum }
// with log p(v) = row[v] − max − logSum.
function logSoftmax(row) {
  let max = row[0], argmax = 0;
  for (let v = 1; v < row.length; v++) {
    if (row[v] > max) {
      max = row[v];
      argmax = v;
    }
  }
  let sum = 0;
  for (let v = 0; v < row.length; v++) sum += Math.exp(row[v] - max);
  return { max, argmax, logSum: Math.log(sum) };
}

// Running sums over the scored positions.
class Scores {
  count = 0;
  nll = 0;
  nll2 = 0;
  baseNll = 0;
  baseNll2 = 0;
  kl = 0;
  kl2 = 0;
  sameTop = 0;
  klValues = [];

  // row: the model's logits at a position; base: the reference's (or null);
  // target: the token that follows.
  add(row, base, target) {
    const q = logSoftmax(row);
    const nll = q.max + q.logSum - row[target];
    this.count++;
    this.nll += nll;
    this.nll2 += nll * nll;
    if (!base) return;
    const p = logSoftmax(base);
    const offset = p.max + p.logSum, qOffset = q.max + q.logSum;
    const baseNll = offset - base[target];
    this.baseNll += baseNll;
    this.baseNll2 += baseNll * baseNll;
    // KL(p ‖ q) = Σ_v p(v)·(log p(v) − log q(v)) in nats.
    let kl = 0;
    for (let v = 0; v < row.length; v++) {
      const logP = base[v] - offset;
      if (logP > KL_FLOOR) kl += Math.exp(logP) * (logP - (row[v] - qOffset));
    }
    this.kl += kl;
    this.kl2 += kl * kl;
    this.klValues.push(kl);
    if (q.argmax === p.argmax) this.sameTop++;
  }

  // Perplexity and mean KL so far (cheap: for progress reports).
  running() {
    const out = { perplexity: Math.exp(this.nll / this.count) };
    if (this.klValues.length > 0) out.klMean = this.kl / this.count;
    return out;
  }

  // Every figure: perplexity always, the rest with a reference.
  summary() {
    const [logPpl, logPplError] = meanAndError(this.nll, this.nll2, this.count);
    const ppl = Math.exp(logPpl);
    const out = { scored: this.count, perplexity: ppl, perplexityError: ppl * logPplError };
    if (this.klValues.length === 0) return out;
    const [logBase, logBaseError] = meanAndError(this.baseNll, this.baseNll2, this.count);
    const [kl, klError] = meanAndError(this.kl, this.kl2, this.count);
    const sorted = Float64Array.from(this.klValues).sort();
    const top1 = this.sameTop / this.count;
    return {
      ...out,
      referencePerplexity: Math.exp(logBase),
      referencePerplexityError: Math.exp(logBase) * logBaseError,
      kl: {
        mean: kl,
        error: klError,
        median: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        max: sorted[sorted.length - 1],
      },
      top1,
      top1Error: this.count > 1 ? Math.sqrt((top1 * (1 - top1)) / (this.count - 1)) : 0,
    };
  }
}

function checkModel(value, name, where) {
  const ok = value !== null && typeof value === 'object' && typeof value.logits === 'function' &&
    typeof value.info?.vocabSize === 'number';
  if (!ok) throw typeError(where, `${name} must be a Model from loadModel(), got ${describe(value)}`);
  if (value.disposed) throw typeError(where, `${name} was disposed; evaluate a model before calling dispose()`);
  return value;
}

/**
 * Perplexity of `model` on `text` (a string, or token ids with BOS first)
 * and, with options.reference, the KL divergence from the reference's
 * distributions; see index.d.ts for the options and the result.
 */
export async function evaluate(model, text, options) {
  const where = 'evaluate';
  checkModel(model, 'model', where);
  const { reference, context: asked, precision, onProgress, signal } = checkEvaluateOptions(options, where);
  if (reference !== undefined) {
    checkModel(reference, 'options.reference', where);
    if (reference.info.vocabSize !== model.info.vocabSize) {
      throw rangeError(where, `the reference's vocabulary has ${reference.info.vocabSize} tokens, the model's ${model.info.vocabSize}: they must match`);
    }
  }
  const ids = await textIds(model, text, where);
  const limit = Math.min(model.info.context, reference?.info.context ?? Infinity);
  const context = asked ?? Math.min(DEFAULT_CONTEXT, limit);
  if (context > limit) {
    throw rangeError(where, `options.context is ${context} but the models were loaded with a context of ${limit}; load them with a larger options.context`);
  }
  const cut = cutWindows(ids, context, model.info.bos, where);
  const windows = cut.length;
  const first = context >> 1;
  const scores = new Scores();
  const vocab = model.info.vocabSize;
  for (let w = 0; w < windows; w++) {
    throwIfAborted(signal, where);
    const tokens = cut[w]; // position 0 (BOS) is never a target
    const logits = await model.logits(tokens, { precision, batch: context });
    const base = reference ? await reference.logits(tokens, { precision: 'w4a32', batch: context }) : null;
    for (let j = first; j < context - 1; j++) {
      const row = logits.subarray(j * vocab, (j + 1) * vocab);
      scores.add(row, base ? base.subarray(j * vocab, (j + 1) * vocab) : null, tokens[j + 1]);
    }
    onProgress?.({ status: 'evaluate', window: w + 1, windows, fraction: (w + 1) / windows, ...scores.running() });
    await macrotask(); // let abort signals and the page run
  }
  return Object.freeze({ tokens: ids.length, context, windows, precision, ...scores.summary() });
}
