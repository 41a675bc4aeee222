// loadModel(source, { worker: true }): the model runs in a dedicated Web
// Worker (dist/nibble-worker.mjs, next to the nibble JS files); the page gets
// a WorkerModel with Model's API. The page never loads the wasm itself.
//
// Differences from Model, all because the work happens in another thread:
// tokenize / detokenize / logits / toGguf return Promises; a bad generate()
// option is reported by the first next() (and by `stats`) instead of by
// generate(); `instanceof Model` is false. `runtime` tells which wasm build
// the worker runs. dispose() terminates the worker, which frees all its
// memory at once.
//
// This file is the part nibble-worker-client (lazy_parts.mjs), a bundle of
// its own loaded by the first loadModel(source, { worker: true }): what it
// needs of the API's state (where the JS files are, the chat templates)
// comes from model.mjs as `host`.
import { plainError, typeError } from './errors.mjs';
import { abortError } from './sources.mjs';
import { deepFreeze, isAbortSignal, tagOf } from './validate.mjs';
import { errorFromData } from './worker_protocol.mjs';

const WORKER_FILE = 'nibble-worker.mjs';
const DISPOSED = 'this Model was disposed; use it only before calling dispose()';
const OWNER = Symbol('WorkerModel');

// A dropped WorkerModel (never disposed) still ends its worker, eventually.
const workerGuard = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry((core) => core.end(null))
  : null;

function pageBase() {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

// A URL string or URL object -> an absolute URL (the worker would resolve a
// relative one against its own script); other sources go as they are (a
// Blob/File is shared, an ArrayBuffer or typed array is copied).
function portable(value) {
  const isUrl = typeof value === 'string' ||
    (value !== null && typeof value === 'object' && typeof value.href === 'string' && !/^(Blob|File)$/.test(tagOf(value)));
  if (!isUrl) return value;
  try {
    return new URL(typeof value === 'string' ? value : value.href, pageBase()).href;
  } catch {
    return typeof value === 'string' ? value : value.href; // the worker's loadModel explains what is wrong
  }
}

// postMessage, with a value that cannot cross to the worker (a function in
// options.stop, say) reported as the TypeError of the call.
function send(worker, message, where) {
  try {
    worker.postMessage(message);
  } catch (e) {
    throw typeError(where, `its arguments cannot be sent to the model's worker (${e.message})`);
  }
}

// What the worker and its WorkerModel share: the message routing. Holds no
// reference to the WorkerModel, so a dropped one can be collected.
class WorkerCore {
  constructor(worker, host) {
    this.worker = worker;
    this.host = host;
    this.handlers = new Map(); // request id -> (message) => void
    this.nextId = 1;
    this.ended = null; // the Error later calls get, once the worker is gone
    worker.onmessage = ({ data }) => this.handlers.get(data.id ?? 0)?.(data);
  }

  // Terminates the worker; pending requests fail with `error` (or DISPOSED).
  end(error) {
    if (this.ended) return;
    this.worker.terminate();
    this.ended = error ?? plainError('Model', DISPOSED);
    for (const handler of this.handlers.values()) handler({ op: 'ended' });
    this.handlers.clear();
  }

  request(message, handler, where) {
    const id = this.nextId++;
    this.handlers.set(id, handler);
    try {
      send(this.worker, { ...message, id }, where);
    } catch (e) {
      this.handlers.delete(id);
      throw e;
    }
    return id;
  }

  // The error of a call on an ended worker, named after the call.
  endedError(where) {
    const message = this.ended.message.replace(/^nibble\.[\w.]+: /, '');
    return plainError(where, message);
  }
}

// A call to the worker: Promise of its result.
function callWorker(core, method, args, where) {
  if (core.ended) return Promise.reject(core.endedError(where));
  return new Promise((resolve, reject) => {
    const id = core.request({ op: 'call', method, args }, (msg) => {
      core.handlers.delete(id);
      if (msg.op === 'result') resolve(msg.value);
      else if (msg.op === 'error') reject(errorFromData(msg.error));
      else reject(core.endedError(where));
    }, where);
  });
}

/**
 * A WorkerModel's tokenizer: Tokenizer's API, with encode / decode /
 * tokenToPiece returning Promises (they run in the worker). It is freed with
 * its model.
 */
export class WorkerTokenizer {
  #core;
  #model; // kept alive as long as this is

  constructor(core, facts, model) {
    this.#core = core;
    this.#model = model;
    Object.assign(this, deepFreeze(facts));
    Object.freeze(this);
  }

  get disposed() { return this.#core.ended !== null; }
  get [Symbol.toStringTag]() { return 'Tokenizer'; }
  encode(text, options) { return callWorker(this.#core, 'tokenizer.encode', [text, options], 'Tokenizer.encode'); }
  decode(ids) { return callWorker(this.#core, 'tokenizer.decode', [ids], 'Tokenizer.decode'); }
  tokenToPiece(id) { return callWorker(this.#core, 'tokenizer.tokenToPiece', [id], 'Tokenizer.tokenToPiece'); }
  isEndOfGeneration(id) { return this.endOfGeneration.includes(id); }
  /** Rendered in this thread (no wasm needed). */
  async applyChatTemplate(messages, options) {
    return this.#core.host.applyChatTemplate(this, messages, options, 'Tokenizer.applyChatTemplate');
  }
  /** Does nothing: the model's dispose() frees it. */
  dispose() {}
}

/** A model that lives in a Web Worker; made by loadModel(source, { worker: true }). */
export class WorkerModel {
  #core;
  #info;
  #runtime;
  #tokenizer;

  constructor(core, info, tokenizer, runtime) {
    this.#core = core;
    this.#info = deepFreeze(info);
    this.#runtime = Object.freeze(runtime);
    this.#tokenizer = new WorkerTokenizer(core, tokenizer, this);
    workerGuard?.register(this, core, this);
  }

  /** Its tokenizer (a WorkerTokenizer). */
  get tokenizer() { return this.#tokenizer; }

  /** What the file holds and how it was loaded (as Model.info). */
  get info() { return this.#info; }
  /** The wasm build running the model: { simd, wasmUrl, ..., worker: true }. */
  get runtime() { return this.#runtime; }
  /** True after dispose(). */
  get disposed() { return this.#core.ended !== null; }
  get [Symbol.toStringTag]() { return 'Model'; }

  #call(method, args, where) {
    return callWorker(this.#core, method, args, where);
  }

  /** Promise of the token ids of text (see Model.tokenize). */
  tokenize(text, options) {
    return this.#call('tokenize', [text, options], 'Model.tokenize');
  }

  /** Promise of the text of token ids (see Model.detokenize). */
  detokenize(ids) {
    return this.#call('detokenize', [ids], 'Model.detokenize');
  }

  /** Promise of the logits of every position of ids (see Model.logits). */
  logits(ids, options) {
    return this.#call('logits', [ids, options], 'Model.logits');
  }

  /** Promise of the model as a GGUF file (see Model.toGguf). */
  toGguf() {
    return this.#call('toGguf', [], 'Model.toGguf');
  }

  /** Generates and collects the whole text: Promise<{ text, stats }>. */
  async complete(prompt, options) {
    let text = '';
    const run = this.generate(prompt, options);
    for await (const piece of run) text += piece;
    return { text, stats: await run.stats };
  }

  /**
   * An async iterator of text pieces with a `stats` promise, as
   * Model.generate; the worker runs ahead of the consumer, pieces queue here.
   */
  generate(prompt, options) {
    return this.#stream(false, prompt, options, 'Model.generate');
  }

  /** A chat turn, as Model.chat (see generate). */
  chat(messages, options) {
    return this.#stream(true, messages, options, 'Model.chat');
  }

  #stream(chat, prompt, options, where) {
    const core = this.#core;
    if (core.ended) throw core.endedError(where);
    const isObject = options !== null && typeof options === 'object' && !Array.isArray(options);
    const { signal, ...rest } = isObject ? options : {};
    const signalLike = isAbortSignal(signal);
    // A real signal stays here (abort becomes a 'stop' message); anything
    // else given as signal goes along, for the worker's generate() to reject.
    const sent = isObject ? (signal === undefined || signalLike ? rest : { ...rest, signal }) : options;

    const pieces = [];
    let wake = null; // resolves a next() waiting for a message
    let failure = null; // the generation's error, thrown by next() once
    let finished = false;
    let started = false;
    let stats = null;
    const settle = {};
    const statsPromise = new Promise((resolve, reject) => Object.assign(settle, { resolve, reject }));
    statsPromise.catch(() => {}); // reported by next(); never unhandled here
    const ended = statsPromise.then(() => {}, () => {}); // the worker is done with it

    const onAbort = () => {
      if (!finished) send(core.worker, { op: 'stop', id }, where);
    };
    const finish = () => {
      finished = true;
      core.handlers.delete(id);
      if (signalLike) signal.removeEventListener?.('abort', onAbort);
      wake?.();
    };
    const id = core.request({ op: 'generate', chat, prompt, options: sent, aborted: signalLike && signal.aborted }, (msg) => {
      if (msg.op === 'piece') {
        pieces.push(msg.text);
        wake?.();
        return;
      }
      if (msg.op === 'done') {
        stats = Object.freeze(msg.stats);
        settle.resolve(stats);
      } else {
        failure = msg.op === 'error' ? errorFromData(msg.error) : core.endedError(where);
        settle.reject(failure);
      }
      finish();
    }, where);
    if (signalLike) signal.addEventListener?.('abort', onAbort, { once: true });

    const iterator = {
      async next() {
        if (!started) {
          started = true;
          if (!finished) send(core.worker, { op: 'next', id }, where);
        }
        for (;;) {
          if (pieces.length > 0) return { value: pieces.shift(), done: false };
          if (failure) {
            const error = failure;
            failure = null;
            pieces.length = 0;
            stats = undefined;
            throw error;
          }
          if (finished) {
            const value = stats ?? undefined;
            stats = undefined; // the stats come once, then plain ends
            return { value, done: true };
          }
          await new Promise((resolve) => { wake = resolve; });
          wake = null;
        }
      },
      async return(value) {
        // Stopped by the consumer (break): the worker stops at its next
        // token (stopReason 'abort'); resolves once it has, so the model is
        // free for the next generate(), as in-thread.
        pieces.length = 0;
        if (!finished) send(core.worker, { op: 'stop', id }, where);
        await ended;
        return { value, done: true };
      },
      async throw(error) {
        await iterator.return();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
      stats: statsPromise,
      get [Symbol.toStringTag]() {
        return 'Generation';
      },
    };
    // While it is in use, the generation keeps its model (and worker) alive.
    Object.defineProperty(iterator, OWNER, { value: this });
    return iterator;
  }

  /** Terminates the worker (freeing all its memory). A second call does nothing. */
  dispose() {
    workerGuard?.unregister(this);
    this.#core.end(null);
  }
}

/**
 * loadModel's worker branch, given loadModel's checked options: starts the
 * worker, forwards progress events, and resolves to a WorkerModel. host:
 * { defaultDir, the folder of the nibble JS files (the worker script sits
 * beside them); applyChatTemplate(tokenizer, messages, options, where) }.
 */
export function loadModelInWorker(source, options, host) {
  const where = 'loadModel';
  if (typeof Worker !== 'function') {
    return Promise.reject(plainError(where, 'options.worker needs Web Workers, which this JavaScript environment does not have; leave worker off (in Node, run nibble in a worker_threads Worker yourself)'));
  }
  const { onProgress, signal, worker: _worker, ...rest } = options;
  const sent = { ...rest };
  if (rest.tokenizer !== undefined) sent.tokenizer = portable(rest.tokenizer);
  if (rest.wasmPath !== undefined) sent.wasmPath = portable(rest.wasmPath);
  if (signal?.aborted) return Promise.reject(abortError(signal, where));

  const url = new URL(WORKER_FILE, host.defaultDir).href;
  let worker;
  try {
    worker = new Worker(url, { type: 'module', name: 'nibble' });
  } catch (e) {
    return Promise.reject(plainError(where, `could not start the worker ${url} (${e.message})`));
  }
  const core = new WorkerCore(worker, host);
  return new Promise((resolve, reject) => {
    const onAbort = () => failWith(abortError(signal, where));
    const failWith = (error) => {
      signal?.removeEventListener('abort', onAbort);
      core.end(error);
      reject(error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.onerror = (event) => {
      event.preventDefault?.();
      const why = event.message ? ` (${event.message})` : '';
      failWith(plainError(where, `could not start the worker ${url}${why}; serve dist/${WORKER_FILE} next to the nibble JS files`));
    };
    core.handlers.set(0, (msg) => {
      if (msg.op === 'progress') {
        try {
          onProgress?.(msg.event);
        } catch (e) {
          failWith(e); // as in-thread: an exception in onProgress ends the load
        }
        return;
      }
      core.handlers.delete(0);
      signal?.removeEventListener('abort', onAbort);
      if (msg.op === 'loaded') {
        // From now on a worker failure is a crash, not a failed start.
        worker.onerror = (event) => {
          event.preventDefault?.();
          core.end(plainError('Model', `the model's worker stopped${event.message ? `: ${event.message}` : ''}; load the model again`));
        };
        resolve(new WorkerModel(core, msg.info, msg.tokenizer, msg.runtime));
      } else if (msg.op === 'error') {
        failWith(errorFromData(msg.error));
      }
    });
    try {
      send(worker, { op: 'load', source: portable(source), options: sent, progress: typeof onProgress === 'function' }, where);
    } catch (e) {
      failWith(e);
    }
  });
}
