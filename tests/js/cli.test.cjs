// The command line (bin/nibble.mjs, plain `node`, no flags): generate prints
// llama2.c's reference text for stories260K at temperature 0 with F32
// weights; quantize -> info -> generate round-trips; logits prints llama.cpp's
// logits of a fixture (as JSON) and their top tokens; every command has
// --help; mistakes give one line on stderr and exit code 1.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { REPO, model, references } = require('./model_util.cjs');
const { argmax, compareLogits, logitsFailures, llamaCppReference, llamaCppBounds } = require('./model_reference.cjs');
const { ggufTensors } = require('./gguf_tensors.cjs');

const CLI = path.join(REPO, 'bin', 'nibble.mjs');
const BIN = model('stories260K.bin'), TOK = model('tok512.bin'), GGUF = model('stories260K.gguf');
const FIXTURES = path.join(REPO, 'tests', 'fixtures', 'llamacpp');

function nibble(...args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Failed with one line on stderr that matches pattern, and no stack trace.
function expectFailure(r, pattern) {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(pattern) });
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

let dir;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-cli-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('generate', () => {
  test.each([
    ['stories260K.gguf', [GGUF]],
    ['stories260K.bin --tokenizer tok512.bin', [BIN, '--tokenizer', TOK]],
  ])('%s --weights f32 --temperature 0 prints the reference text exactly', (_, modelArgs) => {
    for (const ref of references) {
      const maxTokens = ref.token_ids.length - ref.prompt_token_ids.length;
      const r = nibble('generate', ...modelArgs, '--weights', 'f32', '--prompt', ref.prompt, '--max-tokens', String(maxTokens), '--temperature', '0');
      expect(r.code).toBe(0);
      // Like llama2.c's run.c: the prompt, the generated text, a newline.
      expect(r.stdout).toBe(ref.output_text);
      expect(r.stderr).toMatch(new RegExp(`prompt: 5 tokens in [\\d.]+ ms \\([\\d.]+ tokens/s\\)\\n  generated: ${maxTokens} tokens in [\\d.]+ ms \\([\\d.]+ tokens/s\\)\\n  stopped: max_tokens; seed \\d+`));
      expect(r.stderr).toMatch(/f32 weights \(file: f32\), loaded in \d+ ms/);
    }
  });

  test('INT4 by default; a seed makes it reproducible; --stop and --quiet', () => {
    const args = ['generate', BIN, '--tokenizer', TOK, '--prompt', 'Once upon a time', '--max-tokens', '40', '--temperature', '0.9', '--seed', '5'];
    const a = nibble(...args), b = nibble(...args);
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/q4_0 weights \(file: f32\)/);
    expect(b.stdout).toBe(a.stdout);
    expect(a.stdout.startsWith('Once upon a time')).toBe(true);
    const stopped = nibble(...args, '--stop', '.', '--quiet');
    expect(stopped.stderr).toBe('');
    expect(stopped.stdout).toBe(`${a.stdout.slice(0, a.stdout.indexOf('.'))}\n`);
  });
});

describe('quantize -> info -> generate', () => {
  test.each([['q4_0', 'none'], ['q4_1', 'mse']])('--type %s --clip %s', (type, clip) => {
    const out = path.join(dir, `stories260K-${type}.gguf`);
    const q = nibble('quantize', BIN, '--tokenizer', TOK, '-o', out, '--type', type, '--pure', '--clip', clip);
    expect(q.code).toBe(0);
    expect(q.stdout).toBe('');
    expect(q.stderr).toMatch(/loading .*stories260K\.bin: 100%/);
    expect(q.stderr).toMatch(/blk\.4\.ffn_down\.weight falls back to f32: row length 172 is not a multiple of 32/);
    expect(q.stderr).toMatch(new RegExp(`wrote .*stories260K-${type}\\.gguf: [\\d,]+ bytes`));
    const size = fs.statSync(out).size;
    expect(size).toBeLessThan(1056540 / 2);
    expect(fs.readFileSync(out).subarray(0, 4).toString()).toBe('GGUF');

    const info = nibble('info', out);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/format\s+GGUF, architecture llama/);
    expect(info.stdout).toMatch(new RegExp(`in the file\\s+mixed matrices; tensors: ${type} ×31, f32 ×16`));
    expect(info.stdout).toMatch(/layers\s+5, dim 64, feed-forward 172, heads 8 \(KV heads 4, head dim 8\)/);
    expect(info.stdout).toMatch(new RegExp(`file\\s+.* \\(${size.toLocaleString('en-US')} bytes\\)`));
    const json = JSON.parse(nibble('info', out, '--json').stdout);
    expect(json).toMatchObject({ format: 'gguf', fileWeightType: 'mixed', weightType: type, fileBytes: size });

    // The file holds the same blocks as the model quantized on load.
    const greedy = ['--prompt', 'Lily wanted to', '--max-tokens', '50', '--temperature', '0', '--quiet'];
    const fromFile = nibble('generate', out, ...greedy);
    const onLoad = nibble('generate', BIN, '--tokenizer', TOK, '--weights', type, '--clip', clip, ...greedy);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toBe(onLoad.stdout);
  });

  // llama-quantize's per-tensor types and bytes (tests/fixtures/llamacpp/types.json).
  test.each([['llama-f16.gguf', 'llama-q4_k_m.gguf'], ['llama-w192-f16.gguf', 'llama-w192-q4_k_m.gguf']])(
    '%s --type q4_k_m gives %s tensor for tensor', (source, made) => {
      const fixtures = path.join(REPO, 'tests', 'fixtures', 'llamacpp');
      const want = JSON.parse(fs.readFileSync(path.join(fixtures, 'types.json'), 'utf8'))[made];
      const out = path.join(dir, made);
      const q = nibble('quantize', path.join(fixtures, source), '-o', out, '--type', 'q4_k_m');
      expect(q.code).toBe(0);
      expect(q.stderr).toMatch(/quantized .* to q4_k_m \(mixed matrices\)/);
      const got = ggufTensors(fs.readFileSync(out));
      expect(Object.fromEntries(Object.entries(got).map(([name, t]) => [name, t.type]))).toEqual(want.tensors);
      expect(Object.fromEntries(Object.entries(got).map(([name, t]) => [name, t.sha256]))).toEqual(want.tensor_sha256);
    });

  test('--pure --type q4_k_s: every matrix Q4_K, llama.cpp\'s bytes, and Q4_K_S\'s general.file_type (14)', () => {
    const fixtures = path.join(REPO, 'tests', 'fixtures', 'llamacpp');
    const out = path.join(dir, 'llama-q4_k_s-pure.gguf');
    const q = nibble('quantize', path.join(fixtures, 'llama-f16.gguf'), '-o', out, '--type', 'q4_k_s', '--pure');
    expect(q.code).toBe(0);
    const got = ggufTensors(fs.readFileSync(out));
    expect(got.fileType).toBe(14);
    const matrices = Object.values(got).filter((t) => t.shape.length === 2);
    expect(new Set(matrices.map((t) => t.type))).toEqual(new Set(['Q4_K']));
    // llama-quantize's Q4_K_S file has Q4_K where its mix has no other rule: the same bytes.
    const want = JSON.parse(fs.readFileSync(path.join(fixtures, 'types.json'), 'utf8'))['llama-q4_k_s.gguf'];
    const same = Object.keys(want.tensors).filter((name) => want.tensors[name] === 'Q4_K');
    expect(same.length).toBeGreaterThan(10);
    for (const name of same) expect([name, got[name].sha256]).toEqual([name, want.tensor_sha256[name]]);
    expect(ggufTensors(fs.readFileSync(path.join(dir, 'stories260K-q4_0.gguf'))).fileType).toBe(2);
  });

  test('info lists tensors and fallbacks of the original file', () => {
    const r = nibble('info', GGUF, '--tensors');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fallbacks\s+5 matrices stay wider:\n\s+blk\.0\.ffn_down\.weight -> f32: row length 172 is not a multiple of 32/);
    expect(r.stdout).toMatch(/blk\.0\.ffn_up\.weight\s+\[64, 172\]\s+f32 -> q4_0/);
    expect(r.stdout).toMatch(/output\.weight\s+\[64, 512\]\s+f32 -> q4_0/);
    expect(r.stdout).toMatch(/context\s+2,048 positions/);
  });
});

describe('logits', () => {
  const F16 = path.join(FIXTURES, 'llama-f16.gguf');
  const json = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'llama-f16.logits.json'), 'utf8'));
  const tokens = json.tokens.join(',');

  test('--json: llama.cpp\'s logits of llama-f16.gguf (--weights f32) within the F16 bounds', () => {
    const r = nibble('logits', F16, '--weights', 'f32', '--tokens', tokens, '--json');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ tokens: json.tokens, vocabSize: 512, weights: 'f32' });
    const result = compareLogits(Float32Array.from(out.logits.flat()), 512, llamaCppReference(json));
    expect(logitsFailures(result, llamaCppBounds(F16))).toEqual([]);
  });

  test('plain: each position lists its --top tokens, llama.cpp\'s most likely first', () => {
    const r = nibble('logits', F16, '--weights', 'f32', '--tokens', tokens, '--top', '3');
    expect(r.code).toBe(0);
    const blocks = r.stdout.trimEnd().split(/\n(?=position )/);
    expect(blocks).toHaveLength(16);
    blocks.forEach((block, i) => {
      const [head, ...lines] = block.split('\n');
      expect(head).toMatch(new RegExp(`^position ${i}, after ${json.tokens[i]} ".*":$`));
      expect(lines).toHaveLength(3);
      const [id, logit] = lines[0].trim().split(/\s+/).map(Number);
      expect(id).toBe(argmax(json.logits[i]));
      expect(Math.abs(logit - json.logits[i][id])).toBeLessThan(0.05);
    });
  });

  test('a Q3_K file is refused, naming the tensor and its type', () => {
    expectFailure(nibble('logits', path.join(FIXTURES, 'llama-q3_k_m.gguf'), '--tokens', '1,2'),
      /^nibble logits: GGUF tensor blk\.0\.attn_k\.weight has type q3_k which nibble does not support/);
  });
});

describe('help and errors', () => {
  test.each([[[]], [['--help']], [['generate', '--help']], [['chat', '--help']], [['quantize', '-h']], [['info', '--help']], [['logits', '-h']]])('nibble %p prints help', (args) => {
    const r = nibble(...args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(nibble \S+: INT4 language models|Usage: nibble (generate|chat|quantize|info|logits))/);
  });

  test.each([
    [['frobnicate'], /^nibble: unknown command 'frobnicate'; the commands are generate, chat, quantize, info, logits/],
    [['generate'], /^nibble generate: which model\? usage: nibble generate <model>/],
    [['generate', 'missing.gguf'], /^nibble generate: cannot read the model 'missing\.gguf': no such file/],
    [['generate', BIN], /^nibble generate: a llama2\.c checkpoint needs its tokenizer file \(tokenizer\.bin\); pass it with --tokenizer <tokenizer\.bin>/],
    [['generate', TOK], /^nibble generate: not a GGUF file \(no 'GGUF' magic\) nor a llama2\.c checkpoint/],
    [['generate', GGUF, '--max-tokens', 'ten'], /^nibble generate: --max-tokens must be a whole number from 0 to 2147483647, got 'ten'/],
    [['generate', GGUF, '--temperature=-1'], /^nibble generate: --temperature must be a number ≥ 0, got '-1'/],
    [['generate', GGUF, '--temperature', '-1'], /^nibble generate: --temperature needs a value; write a value that starts with '-' as --temperature=-1/],
    [['generate', GGUF, '--weights', 'f16'], /^nibble generate: --weights must be q4_0 or q4_1 or .* or iq4_nl or f32, got 'f16'/],
    [['generate', GGUF, '--clip', 'max'], /^nibble generate: --clip must be none or mse, got 'max'/],
    [['generate', GGUF, '--frobnicate'], /^nibble generate: Unknown option '--frobnicate' \(see nibble generate --help\)/],
    [['generate', GGUF, 'Once', 'upon'], /^nibble generate: one model file, please/],
    [['quantize', GGUF], /^nibble quantize: where to\? give the output file with -o <out\.gguf>/],
    [['quantize', GGUF, '-o', '/no/such/folder/x.gguf'], /^nibble quantize: cannot write '\/no\/such\/folder\/x\.gguf': no folder/],
    [['quantize', GGUF, '-o', 'x.gguf', '--type', 'f32'], /^nibble quantize: --type must be q4_0 or q4_1 or q5_0 .* or q4_k_m .* or iq4_nl, got 'f32'/],
    [['info', 'missing.bin'], /^nibble info: cannot read the model 'missing\.bin': no such file/],
    [['logits', GGUF], /^nibble logits: which tokens\? give their ids with --tokens 1,2,3/],
    [['logits', GGUF, '--tokens', '1,two'], /^nibble logits: --tokens must be token ids separated by commas, such as 1,403,407; got '1,two'/],
    [['logits', GGUF, '--tokens', '1,512'], /^nibble logits: ids\[1\] = 512 is not a token id \(0 \.\. 511\)/],
    [['logits', GGUF, '--tokens', '1,2,3', '--context', '2'], /^nibble logits: ids has 3 tokens but the context holds 2; shorten it or load with a larger --context/],
    [['logits', GGUF, '--tokens', '1', '--top', '0'], /^nibble logits: --top must be a whole number from 1 to 2147483647, got '0'/],
  ])('nibble %p -> exit 1, one line', (args, pattern) => {
    expectFailure(nibble(...args), pattern);
  });

  test('a truncated file names the tensor', () => {
    const cut = path.join(dir, 'cut.gguf');
    fs.writeFileSync(cut, fs.readFileSync(GGUF).subarray(0, 700000));
    expectFailure(nibble('info', cut), /^nibble info: tensor [a-z0-9_.]+ is truncated/);
  });
});
