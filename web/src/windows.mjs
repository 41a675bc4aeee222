// The token windows that evaluate() and the calibration functions run, cut
// the way llama.cpp's llama-perplexity and llama-imatrix cut a text: its
// token ids (BOS first) in floor(n / context) non-overlapping windows of
// `context` tokens, the rest unused, each window's first token replaced by
// BOS (each runs from an empty KV cache).
import { rangeError, typeError } from './errors.mjs';
import { checkIds, describe } from './validate.mjs';

export const DEFAULT_CONTEXT = 512; // both tools' default -c

// The token ids of `text`: a string (tokenized by the model, which may live
// in a worker) or token ids. `orElse` names what else the caller accepts.
export async function textIds(model, text, where, orElse = ' or an array of token ids') {
  if (typeof text === 'string') return Int32Array.from(await model.tokenize(text));
  if (Array.isArray(text) || ArrayBuffer.isView(text)) return checkIds(text, 'text', model.info.vocabSize, where);
  throw typeError(where, `text must be a string${orElse}, got ${describe(text)}`);
}

// The windows of `ids`: copies, with BOS first when the model has one.
export function cutWindows(ids, context, bos, where, what = 'text') {
  const count = Math.floor(ids.length / context);
  if (count === 0) {
    throw rangeError(where, `the ${what} has ${ids.length} tokens, fewer than one window of options.context = ${context}; give more text or a smaller context`);
  }
  const windows = [];
  for (let w = 0; w < count; w++) {
    const tokens = ids.slice(w * context, (w + 1) * context);
    if (bos >= 0) tokens[0] = bos;
    windows.push(tokens);
  }
  return windows;
}
