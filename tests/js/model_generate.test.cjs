// Model.generate in Node: sampling is reproducible by seed, top-k 1 is
// greedy, maxTokens / stop strings / the context length / end-of-sequence /
// an AbortSignal / break each end a generation with their stopReason, text
// streams UTF-8-safely across byte tokens, and tokenize/detokenize round-trip.
const { loadNibble } = require('./load.cjs');
const { model, randomLlamaGguf } = require('./model_util.cjs');

let nibble, stories;
beforeAll(async () => {
  ({ nibble } = await loadNibble('auto'));
  stories = await nibble.loadModel(model('stories260K.bin'), { tokenizer: model('tok512.bin') }); // q4_0
});
afterAll(() => stories.dispose());

const PROMPT = 'Once upon a time';

async function collect(run) {
  const pieces = [];
  for await (const piece of run) pieces.push(piece);
  return { pieces, text: pieces.join(''), stats: await run.stats };
}

describe('sampling', () => {
  test('the same seed gives the same text; other seeds give other texts', async () => {
    const opts = { maxTokens: 60, temperature: 1 };
    const a = await stories.complete(PROMPT, { ...opts, seed: 7 });
    const b = await stories.complete(PROMPT, { ...opts, seed: 7 });
    expect(b.text).toBe(a.text);
    expect(a.stats.seed).toBe(7);
    const others = new Set();
    for (const seed of [1, 2, 3, 4]) others.add((await stories.complete(PROMPT, { ...opts, seed })).text);
    others.add(a.text);
    expect(others.size).toBeGreaterThanOrEqual(3);
  });

  test('without a seed, a random one is used and reported', async () => {
    const { text, stats } = await stories.complete(PROMPT, { maxTokens: 30, temperature: 1 });
    expect(Number.isInteger(stats.seed)).toBe(true);
    expect((await stories.complete(PROMPT, { maxTokens: 30, temperature: 1, seed: stats.seed })).text).toBe(text);
  });

  test('top-k 1 equals greedy at any temperature', async () => {
    const greedy = await stories.complete(PROMPT, { maxTokens: 80, temperature: 0 });
    for (const seed of [1, 2]) {
      expect((await stories.complete(PROMPT, { maxTokens: 80, temperature: 1.5, topK: 1, seed })).text).toBe(greedy.text);
    }
  });

  test('a tiny top-p is greedy too', async () => {
    const greedy = await stories.complete(PROMPT, { maxTokens: 40, temperature: 0 });
    expect((await stories.complete(PROMPT, { maxTokens: 40, temperature: 1, topK: 0, topP: 1e-6, seed: 5 })).text).toBe(greedy.text);
  });
});

describe('stopping', () => {
  test('maxTokens is respected', async () => {
    for (const maxTokens of [0, 1, 17]) {
      const ids = [];
      const { text, stats } = await stories.complete(PROMPT, { maxTokens, seed: 1, onToken: (id) => ids.push(id) });
      expect(stats).toMatchObject({ generatedTokens: maxTokens, stopReason: 'max_tokens', promptTokens: 5 });
      expect(ids).toHaveLength(maxTokens);
      expect(text).toBe(stories.detokenize([1, 403, 407, 261, 378, ...ids]).slice(PROMPT.length));
    }
  });

  test('statistics are numbers that add up', async () => {
    const { stats } = await stories.complete(PROMPT, { maxTokens: 50, temperature: 0 });
    for (const key of ['promptMs', 'generateMs', 'totalMs', 'tokensPerSecond', 'promptTokensPerSecond']) {
      expect(Number.isFinite(stats[key]) && stats[key] >= 0).toBe(true);
    }
    expect(stats.totalMs).toBeGreaterThanOrEqual(stats.promptMs + stats.generateMs - 1e-6);
    expect(stats.tokensPerSecond).toBeCloseTo((50 * 1000) / stats.generateMs, 6);
    // The first token comes after the prompt's run and the first step, and before the end.
    expect(stats.ttftMs).toBeGreaterThanOrEqual(stats.promptMs);
    expect(stats.ttftMs).toBeLessThanOrEqual(stats.totalMs);
    expect(Object.isFrozen(stats)).toBe(true);
  });

  test('ttftMs counts the wait for the first token, and is null when no token came', async () => {
    const none = await stories.complete(PROMPT, { maxTokens: 0 });
    expect(none.stats.ttftMs).toBeNull();
    // The time a consumer keeps the loop waiting after the first token is not in it.
    const run = stories.generate(PROMPT, { maxTokens: 3, temperature: 0 });
    const started = performance.now();
    await run.next();
    const firstSeen = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 50));
    for await (const piece of run) void piece;
    const stats = await run.stats;
    expect(stats.ttftMs).toBeGreaterThan(0);
    expect(stats.ttftMs).toBeLessThanOrEqual(firstSeen);
    expect(stats.totalMs - stats.ttftMs).toBeGreaterThanOrEqual(45);
  });

  test('stop strings end the text before them; text that may start one is held back', async () => {
    const greedy = (await stories.complete(PROMPT, { maxTokens: 120, temperature: 0 })).text;
    // Stops that span tokens, come after a partial match ('Lil' before 'Lily'), or are one character.
    for (const stop of [['small box'], ['Lily', 'zzz'], ['zzz', 'play outside'], ['.'], ['Lily was so happy and said, "Yes']]) {
      const cut = Math.min(...stop.map((s) => greedy.indexOf(s)).filter((i) => i >= 0));
      expect({ stop, found: Number.isFinite(cut) }).toEqual({ stop, found: true });
      const { pieces, text, stats } = await collect(stories.generate(PROMPT, { maxTokens: 120, temperature: 0, stop }));
      expect({ stop, text }).toEqual({ stop, text: greedy.slice(0, cut) });
      expect(stats.stopReason).toBe('stop');
      expect(pieces.every((p) => p.length > 0)).toBe(true);
    }
    const none = await stories.complete(PROMPT, { maxTokens: 120, temperature: 0, stop: ['no such words', 'Lily!!'] });
    expect(none.text).toBe(greedy);
    expect(none.stats.stopReason).toBe('max_tokens');
  });

  test('reaching the context length ends with stopReason "context", not an error', async () => {
    const small = await nibble.loadModel(model('stories260K.gguf'), { context: 32 });
    expect(small.info.context).toBe(32);
    const { stats } = await small.complete(PROMPT, { maxTokens: 1000, temperature: 0 });
    expect(stats).toMatchObject({ stopReason: 'context', promptTokens: 5, generatedTokens: 32 - 5 + 1 });
    // A prompt longer than the context is refused up front.
    expect(() => small.generate('word '.repeat(40))).toThrow(/the prompt has \d+ tokens but the context holds 32/);
    small.dispose();
  });

  test('the end-of-sequence token ends with stopReason "eos" (a model whose every token is equally likely)', async () => {
    const flat = await nibble.loadModel(randomLlamaGguf({ dim: 64, hidden: 128, layers: 1, heads: 2, kvHeads: 2, vocab: 0, bytes: false, words: ['▁a', 'b'], flatOutput: true }));
    const { stats } = await flat.complete('a', { temperature: 1, topK: 0, topP: 1, seed: 1, maxTokens: 200 });
    expect(stats.stopReason).toBe('eos');
    expect(stats.generatedTokens).toBeLessThan(200);
    flat.dispose();
  });

  test('an AbortSignal fired by a timer stops the generation (it yields to the event loop)', async () => {
    // The timer is armed at the first piece; a sampled story may still reach
    // its end first at thousands of tokens/s, so a few seeds are tried.
    let stats, count;
    for (let seed = 1; seed <= 5 && stats?.stopReason !== 'abort'; seed++) {
      const controller = new AbortController();
      const run = stories.generate(PROMPT, { maxTokens: 100000, temperature: 1, seed, signal: controller.signal });
      count = 0;
      for await (const piece of run) {
        if (count === 0) setTimeout(() => controller.abort(), 1);
        count += piece.length > 0 ? 1 : 0;
      }
      stats = await run.stats;
    }
    expect(stats.stopReason).toBe('abort');
    expect(stats.generatedTokens).toBeGreaterThan(0);
    expect(stats.generatedTokens).toBeLessThan(2048);
    expect(count).toBeGreaterThan(0);
  });

  test('aborting from inside the loop stops after the current piece; an aborted signal gives nothing', async () => {
    const controller = new AbortController();
    const run = stories.generate(PROMPT, { maxTokens: 100, temperature: 0, signal: controller.signal });
    let n = 0;
    for await (const _ of run) if (++n === 5) controller.abort();
    expect(n).toBe(5);
    expect(await run.stats).toMatchObject({ stopReason: 'abort', generatedTokens: 5 });
    const again = await collect(stories.generate(PROMPT, { signal: controller.signal }));
    expect(again.text).toBe('');
    expect(again.stats).toMatchObject({ stopReason: 'abort', generatedTokens: 0 });
  });

  test('break ends it as "abort" and frees the model for the next generation', async () => {
    const run = stories.generate(PROMPT, { maxTokens: 100, temperature: 0 });
    for await (const _ of run) break; // eslint-disable-line no-unused-vars
    expect((await run.stats).stopReason).toBe('abort');
    const unused = stories.generate(PROMPT);
    await unused.return();
    expect((await unused.stats).stopReason).toBe('abort');
    expect((await stories.complete(PROMPT, { maxTokens: 3 })).stats.generatedTokens).toBe(3);
  });

  test('one generation at a time per model', async () => {
    const first = stories.generate(PROMPT, { maxTokens: 20, temperature: 0 });
    await first.next();
    await expect(stories.complete(PROMPT, { maxTokens: 5 })).rejects.toThrow(/another generation is still running on this model/);
    const rest = await collect(first);
    expect(rest.stats.stopReason).toBe('max_tokens');
  });
});

describe('text', () => {
  test('tokenize / detokenize round-trip through the JS API', () => {
    for (const text of ['Once upon a time', 'héllo wörld 😀 — “quotes”', ' leading space', 'tabs\tand\nnewlines', '']) {
      const ids = stories.tokenize(text);
      expect(ids[0]).toBe(1); // BOS
      expect(stories.detokenize(ids)).toBe(text);
      const bare = stories.tokenize(text, { addBos: false });
      expect(bare).toEqual(ids.slice(1));
      expect(stories.detokenize(bare)).toBe(text);
    }
    expect(stories.tokenize('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
    expect(stories.detokenize(new Int32Array([1, 403, 407]))).toBe('Once upon');
  });

  test('pieces stay UTF-8-safe when a character is split over byte tokens', async () => {
    // Every token equally likely, most of them single bytes: characters get
    // split across tokens, and invalid sequences appear too.
    const bytes = await nibble.loadModel(randomLlamaGguf({ dim: 64, hidden: 128, layers: 1, heads: 2, kvHeads: 2, vocab: 0, words: ['▁a', 'é', '😀'], flatOutput: true, context: 1024 }));
    const ids = [];
    const { pieces, text } = await collect(bytes.generate('a', { temperature: 1, topK: 0, topP: 1, seed: 12, maxTokens: 1000, onToken: (id) => ids.push(id) }));
    expect(ids.length).toBeGreaterThan(50);
    expect(text).toBe(bytes.detokenize(ids)); // streamed = decoded at once
    expect(pieces.every((p) => !/[\uD800-\uDBFF]$/.test(p))).toBe(true); // no half surrogate pairs
    const joined = [...text].filter((c) => c > '\x7f' && c !== '\ufffd' && c !== 'é' && c !== '😀');
    expect(joined.length).toBeGreaterThan(0); // multi-byte characters assembled from byte tokens
    bytes.dispose();
  });

  test('a prompt may be token ids', async () => {
    const a = await stories.complete([1, 403, 407, 261, 378], { maxTokens: 20, temperature: 0 });
    const b = await stories.complete(PROMPT, { maxTokens: 20, temperature: 0 });
    expect(a.text).toBe(b.text);
  });
});
