// The JS tokenizer API: loadTokenizer() on vocab-only GGUF files (llama.cpp's
// test strings encode to llama.cpp's ids), model.tokenizer (the same object
// kind, freed with its model), special tokens (parseSpecial, add_bos /
// add_eos, end-of-generation ids), tokenToPiece, and loadTokenizer reading
// only a file's header.
// The vocabularies and the wasm take seconds to load on a busy machine.
jest.setTimeout(60000);
const fs = require('node:fs');
const path = require('node:path');
const { expectThrown, loadNibble } = require('./load.cjs');
const { model, randomLlamaGguf, startServer } = require('./model_util.cjs');

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const vocab = (name) => path.join(FIXTURES, `ggml-vocab-${name}.gguf`);

// Each file is read once (the large vocabularies take ~1 s in wasm).
const loaded = {};
const tokenizer = async (name) => (loaded[name] ??= nibble.loadTokenizer(vocab(name)));

let nibble;
beforeAll(async () => {
  ({ nibble } = await loadNibble('auto'));
});
afterAll(async () => {
  for (const tok of Object.values(loaded)) (await tok).dispose();
});

// llama.cpp's test strings (.inp: joined by "\n__ggml_vocab_test__\n",
// which also ends the file) and ids (.out: a line per string).
function vectors(name) {
  const inputs = fs.readFileSync(`${vocab(name)}.inp`, 'utf8').split('\n__ggml_vocab_test__\n').slice(0, -1);
  const ids = fs.readFileSync(`${vocab(name)}.out`, 'utf8').split('\n').slice(0, inputs.length)
    .map((line) => line.trim().split(/\s+/).filter(Boolean).map(Number));
  return inputs.map((text, i) => [text, ids[i]]);
}

describe('loadTokenizer on vocab-only files', () => {
  test.each([['phi-3', 'llama'], ['qwen2', 'gpt2'], ['bert-bge', 'bert']])('%s is a %s vocabulary', async (name, kind) => {
    expect((await tokenizer(name)).kind).toBe(kind);
  });

  test('WordPiece adds [CLS] and [SEP] around the text when special tokens are asked for', async () => {
    const tok = await tokenizer('bert-bge');
    const body = tok.encode('Hello world', { addSpecial: false });
    expect(body.length).toBeGreaterThan(0);
    expect(tok.encode('Hello world')).toEqual([tok.bos, ...body, tok.eos]);
    expect([tok.bos, tok.eos]).toEqual([101, 102]);  // [CLS], [SEP] in this file
  });

  // Files of each kind: SentencePiece (phi-3), byte-level BPE with three
  // pre-tokenizers, and WordPiece (bert-bge). ~1 s each (the vocabulary
  // tables are built in wasm).
  test.each(['phi-3', 'qwen2', 'llama-bpe', 'starcoder-smollm', 'bert-bge'])('%s: llama.cpp test strings encode to its ids', async (name) => {
    const tok = await tokenizer(name);
    const cases = vectors(name);
    expect(cases.length).toBeGreaterThan(20);
    for (const [text, ids] of cases) {
      expect({ text, ids: tok.encode(text, { addSpecial: false }) }).toEqual({ text, ids });
    }
  });

  test('dispose() frees a loaded tokenizer; its facts stay readable', async () => {
    const tok = await nibble.loadTokenizer(vocab('starcoder-smollm'));
    tok.dispose();
    expect(tok.disposed).toBe(true);
    expect(tok.vocabSize).toBe(49152);
    await expectThrown(() => tok.encode('a'), Error, /^Error: nibble\.Tokenizer\.encode: this Tokenizer was disposed; use it only before calling dispose\(\)$/);
  });

  test('special tokens of Llama 3 (llama-bpe): BOS added as the file says, control tokens parsed on request, end of generation', async () => {
    const tok = await tokenizer('llama-bpe');
    expect({ kind: tok.kind, pre: tok.pre, vocabSize: tok.vocabSize, bos: tok.bos, addBos: tok.addBos, bosToken: tok.bosToken })
      .toEqual({ kind: 'gpt2', pre: 'llama-bpe', vocabSize: 128256, bos: 128000, addBos: true, bosToken: '<|begin_of_text|>' });
    const eotId = 128009;
    expect(tok.tokenToPiece(eotId)).toBe('<|eot_id|>');
    expect(tok.endOfGeneration).toContain(eotId);
    expect(tok.isEndOfGeneration(eotId)).toBe(true);
    expect(tok.isEndOfGeneration(tok.encode('Hi', { addSpecial: false })[0])).toBe(false);
    const text = '<|start_header_id|>user<|end_header_id|>Hi<|eot_id|>';
    const parsed = tok.encode(text, { parseSpecial: true });
    expect(parsed[0]).toBe(128000); // BOS: add_bos_token
    expect(parsed).toEqual([128000, 128006, 882, 128007, 13347, 128009]);
    const literal = tok.encode(text); // off by default, as in llama.cpp: spelled out
    expect(literal).not.toContain(eotId);
    expect(tok.decode(literal)).toBe(text);
    expect(tok.encode('Hi', { addBos: false })).toEqual([13347]);
    expect(tok.encode('Hi', { addSpecial: false, addEos: true })).toEqual([13347, tok.eos]);
    expect(tok.chatTemplate).toMatch(/start_header_id/);
  });

  test('Qwen2: no BOS by default, <|im_end|> ends a generation, tokenToPiece keeps spaces', async () => {
    const tok = await tokenizer('qwen2');
    expect(tok.addBos).toBe(false);
    const [imStart, imEnd] = tok.encode('<|im_start|><|im_end|>', { parseSpecial: true });
    expect([tok.tokenToPiece(imStart), tok.tokenToPiece(imEnd)]).toEqual(['<|im_start|>', '<|im_end|>']);
    expect(tok.isEndOfGeneration(imEnd)).toBe(true);
    expect(tok.isEndOfGeneration(imStart)).toBe(false);
    const [hello, world] = tok.encode('Hello world');
    expect([tok.tokenToPiece(hello), tok.tokenToPiece(world)]).toEqual(['Hello', ' world']);
    await expectThrown(() => tok.tokenToPiece(tok.vocabSize), RangeError, /token 151\d+ is outside the vocabulary/);
    await expectThrown(() => tok.encode('a', { parse: true }), TypeError, /unknown option 'parse'/);
  });

  test('a SentencePiece tokenizer: tokenToPiece shows the word space and byte tokens', async () => {
    const tok = await tokenizer('phi-3');
    expect(tok.kind).toBe('llama');
    const ids = tok.encode(' the', { addSpecial: false });
    expect(ids.map((id) => tok.tokenToPiece(id)).join('')).toBe('  the');
    expect(tok.tokenToPiece(tok.bos)).toBe('<s>');
  });

  test('refuses what is not a GGUF file, and a file that ends inside its header', async () => {
    await expectThrown(() => nibble.loadTokenizer(model('tok512.bin')), Error, /not a GGUF file: loadTokenizer reads the tokenizer of GGUF files only/);
    const head = fs.readFileSync(vocab('qwen2')).subarray(0, 100000);
    await expectThrown(() => nibble.loadTokenizer(head), Error, /^Error: nibble\.loadTokenizer: .*(truncated|end).*\(a Uint8Array\)$/);
  });
});

describe('loadTokenizer reads only the header', () => {
  test('a model whose download breaks in the tensor data still gives its tokenizer (loadModel fails)', async () => {
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'nibble-tok-'));
    fs.writeFileSync(path.join(dir, 'm.gguf'), randomLlamaGguf({ dim: 256, hidden: 512, layers: 4, vocab: 600 }));
    const server = await startServer(dir, { cut: ['/m.gguf'] });
    try {
      const tok = await nibble.loadTokenizer(`${server.url}m.gguf`);
      expect(tok.vocabSize).toBe(600);
      expect(tok.tokenToPiece(300)).toBe(' w300');
      tok.dispose();
      await expect(nibble.loadModel(`${server.url}m.gguf`)).rejects.toThrow();
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('model.tokenizer', () => {
  test('is a Tokenizer equal to loadTokenizer of the same file, freed with the model; heap flat over cycles', async () => {
    const file = model('stories260K.gguf');
    const fromFile = await nibble.loadTokenizer(file);
    const cycle = async () => {
      const m = await nibble.loadModel(file);
      const tok = m.tokenizer;
      expect(tok).toBeInstanceOf(nibble.Tokenizer);
      expect(tok).toBe(m.tokenizer);
      expect(tok.encode('Once upon a time')).toEqual(fromFile.encode('Once upon a time'));
      expect(m.tokenize('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
      expect([tok.bos, tok.eos, tok.vocabSize]).toEqual([fromFile.bos, fromFile.eos, fromFile.vocabSize]);
      tok.dispose(); // does nothing: the model owns it
      expect(tok.disposed).toBe(false);
      expect(m.detokenize([1, 403, 407])).toBe('Once upon');
      m.dispose();
      expect(tok.disposed).toBe(true);
      expect(() => tok.decode([1])).toThrow(/this Tokenizer was disposed with its Model/);
      const t2 = await nibble.loadTokenizer(file);
      t2.dispose();
    };
    await cycle();
    const before = nibble._debug.heapBytesInUse();
    for (let i = 0; i < 5; i++) await cycle();
    expect(nibble._debug.heapBytesInUse()).toBe(before);
    fromFile.dispose();
  });
});
