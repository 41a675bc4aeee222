// The multithreaded build (SIMD + pthreads, dist/nibble-simd-threads.*; its
// relaxed-SIMD twin once) in
// Node: init({ threads }) picks it (Node may always share memory), starts the
// pthread workers, and gives bit for bit the results of the single-thread
// SIMD build, also after the shared heap has grown; bad threads options are
// rejected; when threads cannot run, the single-thread build loads with ONE
// console warning that says why; a script that used threads still exits.
// Needs dist/ with the threads build (tools/build.sh).
const { execFileSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const ref = require('./reference.cjs');
const { DIST, enableRelaxedSimd } = require('./load.cjs');

// A fresh copy of dist/nibble.cjs (its own wasm module), initialised with opts.
async function load(opts) {
  let nibble;
  jest.isolateModules(() => {
    nibble = require(path.join(DIST, 'nibble.cjs'));
  });
  return { nibble, info: await nibble.init(opts) };
}

function firstBitDifference(a, b) {
  if (a.length !== b.length) return -2;
  return a.findIndex((v, i) => !Object.is(v, b[i]));
}

let threaded, single;
beforeAll(async () => {
  threaded = await load({ threads: 2 });
  single = await load({ simd: true });
});

afterEach(() => jest.restoreAllMocks());

test('threads: 2 loads the SIMD + pthreads build', () => {
  expect(threaded.info).toEqual({
    simd: true,
    threads: 2,
    flavour: 'simd-threads',
    threadsUnavailable: null,
    wasmUrl: expect.stringMatching(/nibble-simd-threads\.wasm$/),
  });
  expect(single.info).toMatchObject({ simd: true, threads: 1, flavour: 'simd', threadsUnavailable: null });
});

test("threads: 'auto' uses the logical cores, at most 8", async () => {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const want = Math.min(cores, 8);
  const { info } = await load({ threads: 'auto' });
  expect(info).toMatchObject({ threads: want, flavour: want > 1 ? 'simd-threads' : 'simd' });
});

describe.each(['q4_0', 'q4_1'])('%s', (type) => {
  test('same bytes, dequantized weights and matmul as the single-thread build', async () => {
    // N below, at and far above what one thread-pool work item covers.
    const shapes = [[3, 32], [17, 96], [300, 256], [1000, 512]];
    for (const [rows, cols] of shapes) {
      const w = ref.randomFloats(rows * cols, rows * 3 + cols, 1.5);
      const a = await threaded.nibble.quantize(w, [rows, cols], { type, clip: 'mse' });
      const b = await single.nibble.quantize(w, [rows, cols], { type, clip: 'mse' });
      const shape = `[${rows}, ${cols}]`;
      expect({ shape, bytes: Array.from(a.toBytes()) }).toEqual({ shape, bytes: Array.from(b.toBytes()) });
      const at = firstBitDifference(a.dequantize(), b.dequantize());
      if (at !== -1) throw new Error(`dequantize ${shape}: first difference at ${at}`);
      for (const m of [1, 5, 64, 70]) {
        const x = ref.randomFloats(m * cols, m + cols, 3);
        for (const precision of ['w4a8', 'w4a32']) {
          const ya = a.matmul(x, m, { precision }), yb = b.matmul(x, m, { precision });
          const i = firstBitDifference(ya, yb);
          if (i !== -1) throw new Error(`${precision} ${shape} m=${m}: y[${i}] threads ${ya[i]} vs one thread ${yb[i]}`);
        }
      }
      a.dispose();
      b.dispose();
    }
  });
});

test('with relaxed SIMD, threads: 2 loads its pthreads twin, with the single-thread SIMD build\'s results', async () => {
  const disableRelaxed = enableRelaxedSimd();
  try {
    const relaxed = await load({ threads: 2 });
    expect(relaxed.info).toEqual({
      simd: true,
      threads: 2,
      flavour: 'simd-relaxed-threads',
      threadsUnavailable: null,
      wasmUrl: expect.stringMatching(/nibble-simd-relaxed-threads\.wasm$/),
    });
    for (const type of ['q4_0', 'q4_1']) {
      const rows = 300, cols = 256;
      const w = ref.randomFloats(rows * cols, 11, 1.5);
      const a = await relaxed.nibble.quantize(w, [rows, cols], { type });
      const b = await single.nibble.quantize(w, [rows, cols], { type });
      expect(Array.from(a.toBytes())).toEqual(Array.from(b.toBytes()));
      for (const m of [1, 5, 64]) {
        const x = ref.randomFloats(m * cols, m, 3);
        for (const precision of ['w4a8', 'w4a32']) {
          const i = firstBitDifference(a.matmul(x, m, { precision }), b.matmul(x, m, { precision }));
          if (i !== -1) throw new Error(`${type} ${precision} m=${m}: first difference at y[${i}]`);
        }
      }
      a.dispose();
      b.dispose();
    }
  } finally {
    disableRelaxed();
  }
});

test('results stay right after the shared heap grows', async () => {
  const before = threaded.nibble._debug.wasmMemoryBytes();
  const rows = 2048, cols = 4096; // 32 MiB of f32 input: more than the initial heap
  const w = ref.randomFloats(rows * cols, 5, 1);
  const a = await threaded.nibble.quantize(w, [rows, cols]);
  const b = await single.nibble.quantize(w, [rows, cols]);
  expect(threaded.nibble._debug.wasmMemoryBytes()).toBeGreaterThan(before);
  const x = ref.randomFloats(cols, 6, 2);
  const i = firstBitDifference(a.matmul(x), b.matmul(x));
  if (i !== -1) throw new Error(`after growth: first difference at y[${i}]`);
  expect(Array.from(a.toBytes().subarray(0, 4096))).toEqual(Array.from(b.toBytes().subarray(0, 4096)));
  a.dispose();
  b.dispose();
});

test('bad threads options are rejected with a message that says what to pass', async () => {
  let nibble;
  jest.isolateModules(() => {
    nibble = require(path.join(DIST, 'nibble.cjs'));
  });
  await expect(nibble.init({ threads: 0 })).rejects.toThrow(RangeError);
  await expect(nibble.init({ threads: 2.5 })).rejects.toThrow(/'auto' or an integer from 1 to 64, got 2.5/);
  await expect(nibble.init({ threads: 'many' })).rejects.toThrow(TypeError);
  await expect(nibble.init({ threads: null })).rejects.toThrow(/options.threads must be 'auto' or a number/);
});

test('threads: 1 loads the single-thread build without a warning', async () => {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  const { info } = await load({ threads: 1 });
  expect(info).toMatchObject({ flavour: 'simd', threads: 1, threadsUnavailable: null });
  expect(warn).not.toHaveBeenCalled();
});

test('threads that cannot run: the single-thread build and one warning that says why', async () => {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  const { nibble, info } = await load({ threads: 2, simd: false });
  expect(info).toMatchObject({ flavour: 'scalar', simd: false, threads: 1 });
  expect(info.threadsUnavailable).toMatch(/SIMD build and simd: false was asked/);
  await nibble.init({ threads: 4, simd: false }); // asking again does not warn again
  expect(warn.mock.calls).toEqual([[
    'nibble: threads unavailable because the multithreaded build is a SIMD build and simd: false was asked; using 1 thread',
  ]]);
});

test('asking for threads after a single-thread load warns once', async () => {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  const { nibble } = await load();
  const info = await nibble.init({ threads: 2 });
  expect(info).toMatchObject({ flavour: 'simd', threads: 1 });
  await nibble.init({ threads: 2 });
  expect(warn).toHaveBeenCalledTimes(1);
  expect(warn.mock.calls[0][0]).toMatch(/already loaded with one thread \(pass the threads option to the first nibble call/);
});

// Models: loadModel({ threads }) gives each model its own thread pool; the
// threads split every matmul (by rows in decode, by tiles for the prompt)
// and change no bit of the logits or of the greedy text.
describe('models', () => {
  const { model, randomLlamaGguf } = require('./model_util.cjs');
  const PROMPT = 'Once upon a time';

  async function loadPair(nibble, source, options) {
    const one = await nibble.loadModel(source, { ...options, threads: 1 });
    const two = await nibble.loadModel(source, { ...options, threads: 2 });
    return { one, two };
  }

  test('stories260K: model.info.threads, and the same logits and greedy text with 1 and 2 threads', async () => {
    const { one, two } = await loadPair(threaded.nibble, model('stories260K.bin'), { tokenizer: model('tok512.bin') });
    const plain = await single.nibble.loadModel(model('stories260K.bin'), { tokenizer: model('tok512.bin') });
    try {
      expect([one.info.threads, two.info.threads, plain.info.threads]).toEqual([1, 2, 1]);
      const ids = one.tokenize(PROMPT);
      const l1 = one.logits(ids), l2 = two.logits(ids);
      const i = firstBitDifference(l1, l2);
      if (i !== -1) throw new Error(`logits differ at ${i}: 1 thread ${l1[i]}, 2 threads ${l2[i]}`);
      const opts = { maxTokens: 100, temperature: 0 };
      const [a, b, c] = [await one.complete(PROMPT, opts), await two.complete(PROMPT, opts), await plain.complete(PROMPT, opts)];
      expect(b.text).toBe(a.text);
      expect(c.text).toBe(a.text);
      expect(b.stats.generatedTokens).toBe(a.stats.generatedTokens);
    } finally {
      [one, two, plain].forEach((m) => m.dispose());
    }
  });

  test('a larger random model: same logits (prompt batch) and sampled text with 1, 2 and 3 threads', async () => {
    const bytes = randomLlamaGguf({ dim: 256, hidden: 768, layers: 2, heads: 4, kvHeads: 2, vocab: 1024, context: 128, seed: 3 });
    const models = [];
    try {
      for (const threads of [1, 2, 3]) models.push(await threaded.nibble.loadModel(bytes, { threads }));
      expect(models.map((m) => m.info.threads)).toEqual([1, 2, 3]);
      const ids = Array.from({ length: 40 }, (_, i) => 3 + ((i * 29) % 1000));
      const ref = models[0].logits(ids);
      const texts = [];
      for (const m of models) {
        const i = firstBitDifference(ref, m.logits(ids));
        if (i !== -1) throw new Error(`${m.info.threads} threads: logits differ at ${i}`);
        texts.push((await m.complete(ids, { maxTokens: 40, temperature: 0.9, seed: 11, addBos: false })).text);
      }
      expect(texts[1]).toBe(texts[0]);
      expect(texts[2]).toBe(texts[0]);
    } finally {
      models.forEach((m) => m.dispose());
    }
  });

  test('models come and go: their threads are returned and reused, the heap stays flat', async () => {
    const bytes = randomLlamaGguf({ dim: 128, hidden: 256, layers: 1, heads: 4, kvHeads: 2, vocab: 512, context: 64, seed: 5 });
    const cycle = async () => {
      const m = await threaded.nibble.loadModel(bytes, { threads: 2 });
      await m.complete([1, 5, 9], { maxTokens: 4, temperature: 0, addBos: false });
      m.dispose();
    };
    for (let i = 0; i < 3; i++) await cycle();
    const heap = threaded.nibble._debug.heapBytesInUse();
    for (let i = 0; i < 30; i++) await cycle();
    expect(threaded.nibble._debug.heapBytesInUse()).toBe(heap);
  });

  test('a threads option on a single-thread module: 1 thread and one warning', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const { nibble } = await load({ simd: true });
    const m = await nibble.loadModel(model('stories260K.bin'), { tokenizer: model('tok512.bin'), threads: 2 });
    const m2 = await nibble.loadModel(model('stories260K.bin'), { tokenizer: model('tok512.bin'), threads: 'auto' });
    expect([m.info.threads, m2.info.threads]).toEqual([1, 1]);
    expect(warn).toHaveBeenCalledTimes(1);
    m.dispose();
    m2.dispose();
  });
});

test('a missing worker script: init rejects with an Error that says which file to serve', async () => {
  const fs = require('node:fs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-threads-'));
  try {
    for (const f of ['nibble.cjs', 'nibble-simd-threads.cjs', 'nibble-simd-threads.mjs', 'nibble-simd-threads.wasm']) {
      fs.copyFileSync(path.join(DIST, f), path.join(dir, f));
    }
    let nibble;
    jest.isolateModules(() => {
      nibble = require(path.join(dir, 'nibble.cjs'));
    });
    await expect(nibble.init({ threads: 2 })).rejects.toThrow(
      /^nibble\.init: could not start a thread worker from file:.*nibble-simd-threads\.worker\.mjs \(.+\); serve the nibble-\*\.worker\.mjs files/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Idle pthread workers must not keep Node running: both module forms exit.
test.each([
  ['ES module', ['--input-type=module', '-e',
    `import * as n from ${JSON.stringify(path.join(DIST, 'nibble.mjs'))};
     const info = await n.init({ threads: 3 });
     const q = await n.quantize(new Float32Array(64 * 64).fill(1), [64, 64]);
     console.log(info.flavour, info.threads, q.matmul(new Float32Array(64).fill(1))[0]);`]],
  ['CommonJS', ['-e',
    `const n = require(${JSON.stringify(path.join(DIST, 'nibble.cjs'))});
     n.init({ threads: 3 }).then(async (info) => {
       const q = await n.quantize(new Float32Array(64 * 64).fill(1), [64, 64]);
       console.log(info.flavour, info.threads, q.matmul(new Float32Array(64).fill(1))[0]);
     });`]],
])('%s: a script that used threads exits by itself', (_, args) => {
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 30000 });
  expect(out.trim()).toMatch(/^simd-threads 3 6[34](\.\d+)?$/); // 64 ones · 1, W4A8-rounded
});
