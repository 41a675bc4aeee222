// The script of the engine's Web Worker (built into dist/nibble-worker.mjs):
// loads the wasm and one model in the worker, then answers the page's
// messages (worker_protocol.mjs). The page side is worker_client.mjs.
import { esmPlatform } from './platform_esm.mjs';
import { init, setPlatform } from './runtime.mjs';
import { loadModel } from './model.mjs';
import { TOKENIZER_FACTS } from './tokenizer.mjs';
import { errorToData } from './worker_protocol.mjs';

setPlatform(esmPlatform);

// Methods of Model (and of its tokenizer) the page may call; each answers
// with a 'result'.
const CALLS = new Set(['tokenize', 'detokenize', 'toGguf', 'logits']);
const TOKENIZER_CALLS = new Set(['encode', 'decode', 'tokenToPiece']);

let model = null;
const runs = new Map(); // generation id -> { run, controller, pumping }

function post(message, transfer = []) {
  self.postMessage(message, transfer);
}

function fail(id, error) {
  post({ op: 'error', id, error: errorToData(error) });
}

async function load({ source, options, progress }) {
  try {
    const opts = { ...options };
    if (progress) opts.onProgress = (event) => post({ op: 'progress', event });
    model = await loadModel(source, opts);
    const tokenizer = Object.fromEntries(TOKENIZER_FACTS.map((key) => [key, model.tokenizer[key]]));
    post({ op: 'loaded', info: model.info, tokenizer, runtime: { ...(await init()), worker: true } });
  } catch (e) {
    fail(0, e);
  }
}

async function call({ id, method, args }) {
  try {
    const [target, name] = method.startsWith('tokenizer.') ? [model.tokenizer, method.slice(10)] : [model, method];
    if (!(target === model ? CALLS : TOKENIZER_CALLS).has(name)) throw new TypeError(`nibble worker: unknown method ${method}`);
    const value = await target[name](...args);
    post({ op: 'result', id, value }, ArrayBuffer.isView(value) ? [value.buffer] : []); // bytes, logits: moved, not copied
  } catch (e) {
    fail(id, e);
  }
}

// A generation: generate(prompt) or, with chat, chat(messages = prompt).
function generate({ id, chat, prompt, options, aborted }) {
  const controller = new AbortController();
  if (aborted) controller.abort();
  // The page keeps a real signal and sends 'stop'; a signal that did come
  // along is not one, and generate() says so.
  let opts = options;
  if (options === undefined) opts = { signal: controller.signal };
  else if (options !== null && typeof options === 'object' && !Array.isArray(options) && options.signal === undefined) {
    opts = { ...options, signal: controller.signal };
  }
  try {
    const run = chat ? model.chat(prompt, opts) : model.generate(prompt, opts);
    runs.set(id, { run, controller, pumping: false });
  } catch (e) {
    fail(id, e);
  }
}

// Runs generation `id` to its end, sending each piece as it comes.
async function pump(id) {
  const entry = runs.get(id);
  if (!entry || entry.pumping) return;
  entry.pumping = true;
  try {
    for (;;) {
      const { value, done } = await entry.run.next();
      if (done) break;
      post({ op: 'piece', id, text: value });
    }
    post({ op: 'done', id, stats: await entry.run.stats });
  } catch (e) {
    fail(id, e);
  } finally {
    runs.delete(id);
  }
}

// The page aborted or stopped iterating: the model stops at its next token
// (stopReason 'abort'); a generation that never started ends at once.
async function stop({ id }) {
  const entry = runs.get(id);
  if (!entry) return;
  entry.controller.abort();
  if (!entry.pumping) {
    runs.delete(id);
    await entry.run.return();
    post({ op: 'done', id, stats: await entry.run.stats });
  }
}

self.onmessage = ({ data }) => {
  switch (data.op) {
    case 'load': return load(data);
    case 'call': return call(data);
    case 'generate': return generate(data);
    case 'next': return pump(data.id);
    case 'stop': return stop(data);
    default: return fail(data.id ?? 0, new TypeError(`nibble worker: unknown message ${data.op}`));
  }
};
