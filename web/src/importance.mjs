// collectImportance(model, text, options): an importance matrix as llama.cpp's
// llama-imatrix collects it, for quantizing with loadModel(source,
// { importance }) (llama-quantize --imatrix's rules). For every matrix of
// the model: Σx² of each input column over every position of the
// calibration text, and the number of positions; written as llama.cpp's
// imatrix GGUF file, so files move between the two tools.
//
// The text's tokens (BOS first) are cut into floor(n / context) windows of
// `context` tokens, each run from an empty cache with its first token
// replaced by BOS, every position counted. With no text, options.self
// tokens are sampled from the model itself (temperature 1, no top-k/top-p,
// options.seed), so quantizing needs no dataset.
import { rangeError, typeError } from './errors.mjs';
import { macrotask } from './generation.mjs';
import { throwIfAborted } from './sources.mjs';
import { checkImportanceOptions, checkLowRankOptions, describe } from './validate.mjs';
import { DEFAULT_CONTEXT, cutWindows, textIds } from './windows.mjs';

// `count` token ids sampled from the model: runs of at most `context` tokens,
// each starting at BOS (the next run's seed is one more).
async function sampleTokens(model, count, context, seed, signal, where) {
  const ids = [];
  const bos = model.info.bos >= 0 ? model.info.bos : 0;
  for (let run = 0; ids.length < count; run++) {
    throwIfAborted(signal, where);
    const piece = [bos];
    const maxTokens = Math.min(count - ids.length, context) - 1;
    if (maxTokens > 0) {
      await model.complete([bos], {
        maxTokens, temperature: 1, topK: 0, topP: 1, seed: seed + run, onToken: (id) => piece.push(id),
      });
    }
    ids.push(...piece);
  }
  return Int32Array.from(ids.slice(0, count));
}

// The calibration windows of `text` (a string, token ids, or null with
// self: sampled) for collectImportance() and quantizeCalibrated(), cut as
// windows.mjs says.
export async function calibrationWindows(model, text, { context: asked, self, seed, signal }, where) {
  const context = asked ?? Math.min(DEFAULT_CONTEXT, model.info.context);
  if (context > model.info.context) {
    throw rangeError(where, `options.context is ${context} but the model was loaded with a context of ${model.info.context}; load it with a larger options.context`);
  }
  let ids;
  if (text === null || text === undefined) {
    if (self === undefined) throw typeError(where, 'give a calibration text, or options.self: the number of tokens to sample from the model');
    ids = await sampleTokens(model, self, context, seed, signal, where);
  } else if (self !== undefined) {
    throw typeError(where, 'options.self samples a calibration text; give either a text or options.self, not both');
  } else {
    ids = await textIds(model, text, where, ', an array of token ids or null (with options.self)');
  }
  const windows = cutWindows(ids, context, model.info.bos, where, 'calibration text');
  return { windows, tokens: ids.length, context };
}

// Runs feed(window) on each calibration window, reporting progress and
// yielding to the event loop between windows (abort signals, the page).
async function feedWindows(pieces, feed, signal, onProgress, where) {
  const windows = pieces.length;
  for (let w = 0; w < windows; w++) {
    throwIfAborted(signal, where);
    feed(pieces[w]);
    onProgress?.({ status: 'collect', window: w + 1, windows, fraction: (w + 1) / windows });
    await macrotask();
  }
}

/**
 * An importance matrix of `model` from `text` (a string, token ids with BOS
 * first, or null with options.self); see index.d.ts. importanceOf(model):
 * the model's importance access (Model's [IMPORTANCE], model.mjs), or
 * undefined for anything else; asked anew for each use, so that a model
 * disposed meanwhile says so.
 */
export async function collectImportance(model, text, options, importanceOf) {
  const where = 'collectImportance';
  const access = importanceOf(model);
  if (!access) throw typeError(where, `model must be a Model from loadModel() (not in a worker), got ${describe(model)}`);
  const checked = checkImportanceOptions(options, where);
  const { self, seed, dataset, onProgress, signal } = checked;
  const { windows: pieces, tokens, context } = await calibrationWindows(model, text, checked, where);
  const windows = pieces.length;
  await access.open(); // the tools, loaded on first use
  access.clear();
  try {
    await feedWindows(pieces, (piece) => importanceOf(model).window(piece), signal, onProgress, where);
    const name = dataset ?? (self !== undefined ? `self:${self}:seed${seed}` : 'text');
    const bytes = importanceOf(model).file(name, context);
    return Object.freeze({ bytes, tokens, windows, context, positions: windows * context });
  } finally {
    if (!model.disposed) importanceOf(model).clear();
  }
}

// The low-rank remedy's default rank: r = 4 keeps W4A4's decode within 0.9×
// W4A8's on a SmolLM2-shaped model (r = 8: 0.85–0.88×, its float
// corrections read 10 % more bytes than 576-wide Q4_0 rows) for W4A4 ÷ W4A8
// mean KL 1.39–1.41× on stories260K (r = 8: 1.32–1.34×; README, W4A4).
const DEFAULT_RANK = 4;

/**
 * W4A4's low-rank remedy for a quantized (usually smoothed, rotated and
 * shifted) `model`: the top options.rank principal directions of each
 * matrix input over the calibration text (cut as collectImportance cuts
 * it), written with the model as its GGUF file; see index.d.ts.
 * lowRankOf(model): the model's access (Model's [LOW_RANK]) or undefined.
 */
export async function lowRankRemedy(model, text, options, lowRankOf) {
  const where = 'lowRankRemedy';
  const access = lowRankOf(model);
  if (!access) throw typeError(where, `model must be a Model from loadModel() (not in a worker), got ${describe(model)}`);
  const checked = checkLowRankOptions(options, where, DEFAULT_RANK);
  const { rank, onProgress, signal } = checked;
  const { windows: pieces, tokens, context } = await calibrationWindows(model, text, checked, where);
  const windows = pieces.length;
  await access.open();
  access.clear();
  try {
    await feedWindows(pieces, (piece) => lowRankOf(model).window(piece), signal, onProgress, where);
    const bytes = lowRankOf(model).file(rank);
    return Object.freeze({ bytes, rank, tokens, windows, context });
  } finally {
    if (!model.disposed) lowRankOf(model).clear();
  }
}
