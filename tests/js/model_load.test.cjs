// loadModel in Node: every kind of source (path, file: URL, http URL with and
// without a known size, bytes, Blob/File) gives the same model; progress only
// moves forward and ends at 1; an AbortSignal cancels a load and frees what it
// took; the heap's peak during a load stays within 1.25× the loaded model;
// load/dispose cycles leak nothing; errors say what is wrong; info and the
// GGUF round trip (toGguf -> loadModel).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { expectThrown: expectError, loadNibble } = require('./load.cjs');
const { MODELS, model, randomLlamaGguf, startServer } = require('./model_util.cjs');

const BIN = model('stories260K.bin'), TOK = model('tok512.bin'), GGUF = model('stories260K.gguf');
const PROMPT = 'Once upon a time';
const GREEDY = { maxTokens: 24, temperature: 0 };

let nibble, server, slowServer, expected;
beforeAll(async () => {
  ({ nibble } = await loadNibble('auto'));
  server = await startServer(MODELS, { gzip: ['/stories260K.gguf'], cut: ['/stories260K.bin'] });
  slowServer = await startServer(MODELS, { slowMs: 30 });
  const m = await nibble.loadModel(GGUF);
  expected = (await m.complete(PROMPT, GREEDY)).text;
  m.dispose();
});
afterAll(async () => {
  await server?.close();
  await slowServer?.close();
});

async function greedyText(m) {
  try {
    return (await m.complete(PROMPT, GREEDY)).text;
  } finally {
    m.dispose();
  }
}

// fn() rejects with an AbortError (a DOMException from Node's realm, so not
// instanceof this sandbox's Error).
async function expectAbort(fn) {
  let error = null;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  expect(error?.name).toBe('AbortError');
}


describe('sources', () => {
  const ggufBytes = fs.readFileSync(GGUF);
  test.each([
    ['a path', () => GGUF],
    ['a file: URL string', () => pathToFileURL(GGUF).href],
    ['a URL object (file:)', () => pathToFileURL(GGUF)],
    ['an http URL', () => `${slowServer.url}stories260K.bin`, () => ({ tokenizer: TOK })],
    ['an http URL with Content-Encoding (size unknown until the end)', () => `${server.url}stories260K.gguf`],
    ['a URL object (http)', () => new URL('stories260K.gguf', slowServer.url), () => ({ tokenizer: `${server.url}tok512.bin` })],
    ['a Uint8Array', () => new Uint8Array(ggufBytes)],
    ['a Buffer', () => ggufBytes],
    ['an ArrayBuffer', () => ggufBytes.buffer.slice(ggufBytes.byteOffset, ggufBytes.byteOffset + ggufBytes.length)],
    ['a Blob', () => new Blob([ggufBytes])],
    ['a File', () => new File([ggufBytes], 'stories260K.gguf')],
    ['a path, tokenizer as bytes', () => BIN, () => ({ tokenizer: fs.readFileSync(TOK) })],
    ['a Blob, tokenizer as a Blob', () => new Blob([fs.readFileSync(BIN)]), () => ({ tokenizer: new Blob([fs.readFileSync(TOK)]) })],
  ])('%s', async (_, source, options = () => ({})) => {
    const events = [];
    const m = await nibble.loadModel(source(), { ...options(), onProgress: (e) => events.push(e) });
    expect(await greedyText(m)).toBe(expected);
    // Progress: fractions never go back, statuses come in order, the end is 'ready' at 1.
    const order = ['download', 'load', 'ready'];
    for (let i = 1; i < events.length; i++) {
      expect(events[i].fraction).toBeGreaterThanOrEqual(events[i - 1].fraction);
      expect(order.indexOf(events[i].status)).toBeGreaterThanOrEqual(order.indexOf(events[i - 1].status));
    }
    const last = events.at(-1);
    expect(last).toEqual({ status: 'ready', loaded: last.total, total: last.total, fraction: 1 });
    expect(events.filter((e) => e.status === 'ready')).toHaveLength(1);
    expect(events[0].status).toBe(String(source()).startsWith('http') ? 'download' : 'load');
  });

  test('a download reports many progress events with byte counts', async () => {
    const events = [];
    const m = await nibble.loadModel(`${slowServer.url}stories260K.gguf`, { onProgress: (e) => events.push(e) });
    m.dispose();
    const downloads = events.filter((e) => e.status === 'download');
    expect(downloads.length).toBeGreaterThan(5);
    expect(downloads.every((e) => e.total === 1185376 && e.loaded <= e.total)).toBe(true);
    expect(downloads.at(-1).loaded).toBe(1185376);
  });
});

describe('abort', () => {
  test('during a download: AbortError, and the heap is back where it was', async () => {
    const before = nibble._debug.heapBytesInUse();
    const controller = new AbortController();
    let events = 0;
    await expectAbort(() => nibble.loadModel(`${slowServer.url}stories260K.gguf`, {
      signal: controller.signal,
      onProgress: () => {
        if (++events === 3) controller.abort();
      },
    }));
    expect(events).toBe(3);
    expect(nibble._debug.heapBytesInUse()).toBe(before);
  });

  test('while reading a file, and before anything started', async () => {
    const before = nibble._debug.heapBytesInUse();
    const controller = new AbortController();
    await expectAbort(() => nibble.loadModel(randomLlamaGguf({ layers: 2 }), {
      signal: controller.signal,
      onProgress: (e) => e.fraction > 0.3 && controller.abort(),
    }));
    const reason = new Error('user gave up');
    const early = new AbortController();
    early.abort(reason);
    await expect(nibble.loadModel(GGUF, { signal: early.signal })).rejects.toBe(reason);
    expect(nibble._debug.heapBytesInUse()).toBe(before);
  });
});

describe('memory', () => {
  // Heap in use after each fed slice (sampled) and malloc's high-water mark
  // (every byte the load ever held at once), both against the loaded model.
  async function measureLoad(source, options) {
    const { nibble: fresh } = await loadNibble(true);
    const d = fresh._debug;
    const inUse0 = d.heapBytesInUse(), peak0 = d.heapPeakBytes();
    let sampled = 0;
    const m = await fresh.loadModel(source, { ...options, onProgress: () => { sampled = Math.max(sampled, d.heapBytesInUse() - inUse0); } });
    const final = d.heapBytesInUse() - inUse0;
    const result = { final, sampledPeak: sampled / final, peak: (d.heapPeakBytes() - peak0) / final, loaded: m.info.loadedBytes };
    m.dispose();
    return result;
  }

  test.each([
    ['stories260K.bin, INT4', BIN, { tokenizer: TOK }],
    ['stories260K.gguf, INT4', GGUF, {}],
    ['a 27M-parameter Q4_0 GGUF (17 MB)', randomLlamaGguf(), {}],
  ])('%s: peak heap during the load ≤ 1.25× the loaded model', async (label, source, options) => {
    const r = await measureLoad(source, options);
    console.log(`${label}: model ${(r.final / 1e6).toFixed(2)} MB in the heap; peak/final: sampled ${r.sampledPeak.toFixed(3)}, malloc high-water ${r.peak.toFixed(3)}`);
    expect(r.final).toBeGreaterThanOrEqual(r.loaded);
    expect(r.sampledPeak).toBeLessThanOrEqual(1.25);
    expect(r.peak).toBeLessThanOrEqual(1.25);
  });

  test('a large file read from disk: the same bound', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-model-'));
    try {
      const file = path.join(dir, 'random.gguf');
      fs.writeFileSync(file, randomLlamaGguf({ seed: 2 }));
      const r = await measureLoad(file, {});
      expect(r.peak).toBeLessThanOrEqual(1.25);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the heap stays flat over load / generate / dispose cycles and failed loads', async () => {
    const { nibble: fresh } = await loadNibble(true);
    const bytes = fs.readFileSync(BIN), tok = fs.readFileSync(TOK);
    async function cycle(i) {
      const m = await fresh.loadModel(bytes, { tokenizer: tok, weights: i % 2 ? 'q4_0' : 'f32' });
      await m.complete(PROMPT, { maxTokens: 8, seed: i });
      m.tokenize('hello');
      m.toGguf();
      m.dispose();
      await expect(fresh.loadModel(bytes.subarray(0, 500000), { tokenizer: tok })).rejects.toThrow(/truncated/);
    }
    for (let i = 0; i < 3; i++) await cycle(i);
    const before = fresh._debug.heapBytesInUse();
    for (let i = 0; i < 30; i++) await cycle(i);
    expect(fresh._debug.heapBytesInUse()).toBe(before);
  });
});

describe('errors', () => {
  test('not a model file', async () => {
    await expectError(() => nibble.loadModel(TOK), Error, /^Error: nibble\.loadModel: not a GGUF file \(no 'GGUF' magic\) nor a llama2\.c checkpoint: .*tok512\.bin\)$/);
    await expectError(() => nibble.loadModel(new Uint8Array(3)), Error, /not a GGUF file/);
  });

  test('a truncated file names the tensor', async () => {
    await expectError(() => nibble.loadModel(fs.readFileSync(GGUF).subarray(0, 600000)), Error, /tensor [a-z0-9_.]+\.weight is truncated/);
    // A checkpoint's tensors are named as run.c names them (w1 of layer 2).
    await expectError(() => nibble.loadModel(fs.readFileSync(BIN).subarray(0, 500000), { tokenizer: TOK }), Error, /llama2\.c checkpoint is truncated: tensor w1\[2\] needs bytes/);
  });

  test('a llama2.c checkpoint without its tokenizer', async () => {
    await expectError(() => nibble.loadModel(BIN), TypeError, /a llama2\.c checkpoint needs its tokenizer file \(tokenizer\.bin\); pass it as loadModel\(source, \{ tokenizer:/);
  });

  test('missing files, folders and URLs', async () => {
    await expectError(() => nibble.loadModel(path.join(MODELS, 'nope.gguf')), Error, /cannot read the model '.*nope\.gguf': no such file/);
    await expectError(() => nibble.loadModel(MODELS), Error, /cannot read the model '.*models': it is a folder, not a file/);
    await expectError(() => nibble.loadModel(BIN, { tokenizer: 'missing-tok.bin' }), Error, /cannot read the tokenizer 'missing-tok\.bin': no such file/);
    await expectError(() => nibble.loadModel(`${server.url}nope.gguf`), Error, /could not fetch the model from http:\/\/127\.0\.0\.1:\d+\/nope\.gguf: HTTP 404/);
    await expectError(() => nibble.loadModel(`${server.url}stories260K.bin`, { tokenizer: TOK }), Error,
      /the download of the model from http:\/\/127\.0\.0\.1:\d+\/stories260K\.bin failed/);
  });

  test.each([
    [42, {}, TypeError, /the model must be a URL, a file path \(Node\), an ArrayBuffer, a Uint8Array or a Blob\/File, got the number 42/],
    [undefined, {}, TypeError, /the model must be a URL.*got undefined/],
    [GGUF, { weights: 'f16' }, RangeError, /options\.weights must be 'q4_0' or 'q4_1' or .* or 'iq4_nl' or 'f32', got 'f16'/],
    [GGUF, { mix: 'q3_k_m' }, RangeError, /options\.mix must be 'q4_0' or .* or 'q4_k_m' or .*, got 'q3_k_m'/],
    [GGUF, { mix: 'q4_k_m', weights: 'q4_0' }, TypeError, /options\.mix and options\.weights exclude each other/],
    [GGUF, { pure: true }, TypeError, /options\.pure gives every matrix the base type of options\.mix/],
    [GGUF, { mix: 'q4_k_s', pure: 'yes' }, TypeError, /options\.pure/],
    [GGUF, { clip: 'max' }, RangeError, /options\.clip must be 'none' or 'mse'/],
    [GGUF, { remedy: 'hadamard' }, RangeError, /options\.remedy must be 'none' or 'rotate' or 'smooth' or 'smooth\+rotate', got 'hadamard'/],
    [GGUF, { remedy: 'smooth' }, TypeError, /options\.remedy 'smooth' smooths activations by calibration data: give options\.importance/],
    [GGUF, { context: 0 }, RangeError, /options\.context must be an integer from 1/],
    [GGUF, { context: 4096 }, RangeError, /options\.context is 4096 but the model's context length is 2048/],
    [GGUF, { onProgress: 'yes' }, TypeError, /options\.onProgress must be a function/],
    [GGUF, { signal: {} }, TypeError, /options\.signal must be an AbortSignal/],
    [GGUF, { threads: 0 }, RangeError, /options\.threads must be 'auto' or an integer/],
    [GGUF, { thread: 4 }, TypeError, /unknown option 'thread'/],
  ])('loadModel(%p, %p) -> %p', async (source, options, type, pattern) => {
    await expectError(() => nibble.loadModel(source, options), type, pattern);
  });

  test('bad generate options', async () => {
    const m = await nibble.loadModel(GGUF);
    expect(() => m.generate(PROMPT, { temperature: -1 })).toThrow(RangeError);
    expect(() => m.generate(PROMPT, { topP: 0 })).toThrow(/options\.topP must be in \(0, 1\], got 0/);
    expect(() => m.generate(PROMPT, { topK: 1.5 })).toThrow(/options\.topK must be an integer/);
    expect(() => m.generate(PROMPT, { seed: -1 })).toThrow(/options\.seed must be an integer from 0 to 9007199254740991/);
    expect(() => m.generate(PROMPT, { maxTokens: '5' })).toThrow(TypeError);
    expect(() => m.generate(PROMPT, { stop: 'x' })).toThrow(/options\.stop must be an array of strings/);
    expect(() => m.generate(PROMPT, { maxToken: 5 })).toThrow(/unknown option 'maxToken'/);
    expect(() => m.generate(42)).toThrow(/prompt must be a string or an array of token ids/);
    expect(() => m.generate([1, 99999])).toThrow(/prompt\[1\] = 99999 is not a token id \(0 \.\. 511\)/);
    expect(() => m.generate('', { addBos: false })).toThrow(/the prompt has no tokens/);
    expect(() => m.detokenize([1, -1])).toThrow(RangeError);
    expect(() => m.tokenize(5)).toThrow(/text must be a string, got the number 5/);
    m.dispose();
  });

  test('use after dispose throws; dispose twice is fine; dispose stops a running generation', async () => {
    const m = await nibble.loadModel(GGUF);
    const run = m.generate(PROMPT, { maxTokens: 50 });
    await run.next();
    m.dispose();
    await expect(run.next()).rejects.toThrow(/nibble\.Model\.generate: this Model was disposed/);
    await expect(run.stats).rejects.toThrow(/disposed/);
    m.dispose();
    expect(m.disposed).toBe(true);
    expect(m.info.format).toBe('gguf'); // info stays readable
    expect(() => m.tokenize('x')).toThrow(/nibble\.Model\.tokenize: this Model was disposed; use it only before calling dispose\(\)/);
    expect(() => m.detokenize([1])).toThrow(/disposed/);
    expect(() => m.generate(PROMPT)).toThrow(/disposed/);
    await expect(m.complete(PROMPT)).rejects.toThrow(/disposed/);
    expect(() => m.toGguf()).toThrow(/disposed/);
    expect(() => new nibble.Model()).toThrow(/there is no public constructor; use await nibble\.loadModel/);
  });
});

describe('info and GGUF round trip', () => {
  test('info of stories260K loaded as INT4: fallbacks, sizes, hyperparameters', async () => {
    const m = await nibble.loadModel(BIN, { tokenizer: TOK, fileTensors: true });
    const info = m.info;
    expect(info).toMatchObject({
      format: 'llama2c', architecture: 'llama', fileWeightType: 'f32', weightType: 'q4_0', tokenizer: 'llama',
      vocabSize: 512, contextLength: 512, context: 512, bos: 1, eos: 2, tiedOutput: true, parameters: 260032,
      fp32Bytes: 260032 * 4, fileBytes: 1056540,
      config: { dim: 64, hiddenDim: 172, layers: 5, heads: 8, kvHeads: 4, headDim: 8, ropeDim: 8, ropeTheta: 10000, rmsEps: 1e-5, vocabSize: 512, contextLength: 512 },
    });
    expect(info.fallbacks).toEqual([0, 1, 2, 3, 4].map((l) => ({
      tensor: `blk.${l}.ffn_down.weight`, type: 'f32', reason: 'row length 172 is not a multiple of 32, the block size of q4_0',
    })));
    expect(info.loadedBytes).toBeLessThan(info.fp32Bytes / 2);
    expect(info.tensors).toHaveLength(1 + 5 * 9 + 1);
    expect(info.tensors.find((t) => t.name === 'blk.0.ffn_down.weight')).toEqual({ name: 'blk.0.ffn_down.weight', shape: [172, 64], type: 'f32', fileType: 'f32' });
    expect(info.tensors.find((t) => t.name === 'blk.0.ffn_up.weight')).toEqual({ name: 'blk.0.ffn_up.weight', shape: [64, 172], type: 'q4_0', fileType: 'f32' });
    expect(Object.isFrozen(info) && Object.isFrozen(info.fallbacks[0]) && Object.isFrozen(info.config)).toBe(true);
    m.dispose();
  });

  test.each(['q4_0', 'q4_1'])('toGguf (%s) -> loadModel reads it back: same text, same bytes', async (weights) => {
    const original = await nibble.loadModel(BIN, { tokenizer: TOK, weights });
    const file = original.toGguf();
    expect(file.byteLength).toBeLessThan(1056540 / 2);
    const reloaded = await nibble.loadModel(file, { fileTensors: true });
    expect(reloaded.info).toMatchObject({ format: 'gguf', fileWeightType: 'mixed', weightType: weights });
    expect(reloaded.info.tensors.find((t) => t.name === 'blk.0.attn_q.weight').fileType).toBe(weights);
    expect(Buffer.compare(reloaded.toGguf(), file)).toBe(0);
    const a = await original.complete(PROMPT, { maxTokens: 40, temperature: 0 });
    const b = await reloaded.complete(PROMPT, { maxTokens: 40, temperature: 0 });
    expect(b.text).toBe(a.text);
    original.dispose();
    reloaded.dispose();
  });
});

describe('download read ahead', () => {
  // A fast server and a 17 MB file: the body is read into the next buffers
  // while the loader packs a chunk (web/src/sources.mjs readAhead), so a
  // buffer read into again while still in use would change the tensors.
  // (Last in the file: between two uses of slowServer, on a busy machine,
  // the next fetch there failed now and then ('fetch failed'), likely a
  // keep-alive connection idle for seconds closed by the server's 5 s
  // timeout as it was reused.)
  test('a download gives the same tensors as the bytes', async () => {
    const bytes = randomLlamaGguf({ seed: 3 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-ahead-'));
    fs.writeFileSync(path.join(dir, 'ahead.gguf'), bytes);
    const fast = await startServer(dir);
    try {
      const downloaded = await nibble.loadModel(`${fast.url}ahead.gguf`);
      const fromBytes = await nibble.loadModel(bytes);
      try {
        expect(Buffer.from(downloaded.toGguf()).equals(Buffer.from(fromBytes.toGguf()))).toBe(true);
      } finally {
        downloaded.dispose();
        fromBytes.dispose();
      }
    } finally {
      await fast.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
