// Pieces of the generation loop that need no wasm: stop strings, yielding to
// the event loop, clocks, and the object generate() returns.

// Resolves after the event loop ran other tasks (timers, abort signals, UI).
// setTimeout(0) would be clamped to 4 ms after a few rounds in browsers.
export const macrotask = (() => {
  if (typeof setImmediate === 'function') return () => new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel();
    const queue = [];
    channel.port1.onmessage = () => queue.shift()();
    return () => new Promise((resolve) => {
      queue.push(resolve);
      channel.port2.postMessage(0);
    });
  }
  return () => new Promise((resolve) => setTimeout(resolve, 0));
})();

export const now = typeof performance === 'object' && typeof performance.now === 'function'
  ? () => performance.now()
  : () => Date.now();

// Holds back text that might begin a stop string, and finds the first stop.
//   push(text) -> { emit, stopped }: emit is safe to show; once stopped, the
//   stop string and anything after it are dropped.
//   flush() -> what is still held (at the end, when no stop came).
export class StopFilter {
  #stops;
  #held = '';

  constructor(stops) {
    this.#stops = stops.filter((s) => s.length > 0);
  }

  push(text) {
    const held = this.#held + text;
    if (this.#stops.length === 0) return { emit: held, stopped: false };
    let first = -1;
    for (const stop of this.#stops) {
      const at = held.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      this.#held = '';
      return { emit: held.slice(0, first), stopped: true };
    }
    // The longest tail of `held` that starts some stop string stays held.
    let keep = 0;
    for (const stop of this.#stops) {
      for (let n = Math.min(stop.length - 1, held.length); n > keep; n--) {
        if (held.endsWith(stop.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    this.#held = held.slice(held.length - keep);
    return { emit: held.slice(0, held.length - keep), stopped: false };
  }

  flush() {
    const held = this.#held;
    this.#held = '';
    return held;
  }
}

// The object generate() returns: an async iterator of text pieces (the
// generator `run`) with a `stats` promise that settles when it ends.
// beforeReturn() runs when the consumer stops it (break or return()).
export function generationResult(run, stats, beforeReturn) {
  stats.catch(() => {}); // a failure is reported by the iterator; never unhandled here
  return {
    next: (value) => run.next(value),
    return: (value) => {
      beforeReturn();
      return run.return(value);
    },
    throw: (error) => run.throw(error),
    [Symbol.asyncIterator]() {
      return this;
    },
    stats,
    get [Symbol.toStringTag]() {
      return 'Generation';
    },
  };
}

// The statistics of one generation.
// cachedTokens: prompt tokens the KV cache kept from the last generation
// (not run again); the prompt's speed counts the others. ttftMs: from the
// start of the generation to its first token, null if none came.
export function makeStats({ promptTokens, cachedTokens, generatedTokens, promptMs, generateMs, totalMs, ttftMs, stopReason, seed }) {
  const perSecond = (n, ms) => (ms > 0 ? (n * 1000) / ms : 0);
  return Object.freeze({
    promptTokens,
    cachedTokens,
    generatedTokens,
    promptMs,
    generateMs,
    totalMs,
    ttftMs,
    tokensPerSecond: perSecond(generatedTokens, generateMs),
    promptTokensPerSecond: perSecond(promptTokens - cachedTokens, promptMs),
    stopReason,
    seed,
  });
}
