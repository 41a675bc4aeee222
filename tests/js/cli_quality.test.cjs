// The quality commands (bin/quality.mjs): nibble imatrix writes llama-imatrix's
// file layout from a text or from the model itself; nibble quantize --imatrix
// with llama.cpp's file gives llama-quantize --imatrix's tensors; quantize
// --self writes a GPTQ file; nibble eval prints llama.cpp's figures (text and
// --json); mistakes give one line.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { REPO, model } = require('./model_util.cjs');
const { ggufTensors } = require('./gguf_tensors.cjs');

const CLI = path.join(REPO, 'bin', 'nibble.mjs');
const GGUF = model('stories260K.gguf');
const QUALITY = path.join(REPO, 'tests', 'fixtures', 'quality');
const SAMPLE = path.join(QUALITY, 'sample.txt');
const LLAMA = JSON.parse(fs.readFileSync(path.join(QUALITY, 'imatrix_tensors.json'), 'utf8'));
const RESULTS = JSON.parse(fs.readFileSync(path.join(QUALITY, 'results.json'), 'utf8'));

jest.setTimeout(60000);

function nibble(...args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-quality-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('quantize --imatrix with llama-imatrix\'s file: llama-quantize --pure --imatrix\'s tensors', () => {
  const out = path.join(dir, 'q4_0-imatrix.gguf');
  const r = nibble('quantize', GGUF, '-o', out, '--type', 'q4_0', '--pure', '--imatrix', path.join(QUALITY, 'imatrix.gguf'));
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/31 matrices weighted by/);
  const got = ggufTensors(fs.readFileSync(out));
  const want = LLAMA['stories260K-q4_0-pure-imatrix.gguf'];
  expect(Object.keys(want).filter((name) => got[name].sha256 !== want[name].sha256)).toEqual([]);
});

test('imatrix --self: an imatrix file of 36 matrices that quantize reads', () => {
  const out = path.join(dir, 'self.gguf');
  const r = nibble('imatrix', GGUF, '--self', '600', '--seed', '3', '--context', '128', '-o', out);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/wrote .*self\.gguf: 4 windows of 128 tokens \(512 positions\) of 600 tokens sampled from the model \(seed 3\)/);
  const names = Object.keys(ggufTensors(fs.readFileSync(out)));
  expect(names.filter((n) => n.endsWith('.in_sum2'))).toHaveLength(36);
  const q = nibble('quantize', GGUF, '-o', path.join(dir, 'q.gguf'), '--type', 'q4_1', '--pure', '--imatrix', out);
  expect(q.stderr).toMatch(/31 matrices weighted by/);
});

test('quantize --self (GPTQ, the default with calibration data): a --pure IQ4_NL file', () => {
  const out = path.join(dir, 'iq4_nl-gptq.gguf');
  const r = nibble('quantize', GGUF, '-o', out, '--type', 'iq4_nl', '--pure', '--self', '256', '--context', '64');
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/gptq: 4 windows of 64 tokens of 256 tokens sampled from the model/);
  const matrices = Object.values(ggufTensors(fs.readFileSync(out))).filter((t) => t.shape.length === 2);
  expect(new Set(matrices.map((t) => t.type))).toEqual(new Set(['IQ4_NL', 'F32']));
});

test('quantize --self --remedy smooth+rotate: GPTQ on the remedied weights, a file that says it carries them and its shifts', () => {
  const out = path.join(dir, 'q4_0-gptq-sr.gguf');
  const r = nibble('quantize', GGUF, '-o', out, '--type', 'q4_0', '--pure', '--self', '128', '--context', '64', '--remedy', 'smooth+rotate');
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/imatrix: 2 windows of 64 tokens/);
  expect(r.stderr).toMatch(/gptq: 2 windows of 64 tokens/);
  const info = JSON.parse(nibble('info', out, '--json').stdout);
  // The calibration's imatrix holds Σx, so the smoothed inputs are shifted too.
  expect(info).toMatchObject({ weightType: 'q4_0', remedy: 'smooth+rotate+shift' });
  expect(nibble('info', out).stdout).toMatch(/W4A4 remedy\s+smooth\+rotate\+shift \(folded into the weights; inputs rotated at run time; inputs shifted by their channel means before rounding\)/);
  const bytes = fs.readFileSync(out);
  for (const name of ['blk.0.attn_q.weight', 'blk.4.ffn_up.weight', 'output.weight']) {
    expect(bytes.includes(`nibble.input_shift.${name}`)).toBe(true);
  }
  expect(bytes.includes('nibble.input_shift.blk.0.ffn_down.weight')).toBe(false);  // 172 wide: not smoothed
});

test('quantize --remedy smooth+rotate+lowrank: each W4A4 input\'s directions travel with the file, info says so, eval --precision w4a4 runs', () => {
  const out = path.join(dir, 'q4_0-srl.gguf');
  // llama-imatrix's file smooths (it has no Σx: no shift); the self-sampled text gives the directions.
  const r = nibble('quantize', GGUF, '-o', out, '--type', 'q4_0', '--pure', '--imatrix', path.join(QUALITY, 'imatrix.gguf'),
    '--self', '128', '--context', '64', '--remedy', 'smooth+rotate+lowrank', '--rank', '2');
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/W4A4 low-rank remedy: rank 2, from 2 windows of 64 tokens of 128 tokens sampled from the model/);
  const info = JSON.parse(nibble('info', out, '--json').stdout);
  expect(info).toMatchObject({ weightType: 'q4_0', remedy: 'smooth+rotate+lowrank', lowRank: 2 });
  expect(nibble('info', out).stdout).toMatch(/W4A4 remedy\s+smooth\+rotate\+lowrank \(.*; W4A4 inputs lose 2 directions before rounding\)/);
  const bytes = fs.readFileSync(out);
  for (const name of ['blk.0.attn_q.weight', 'blk.0.attn_v.weight', 'blk.4.ffn_up.weight', 'output.weight']) {
    expect(bytes.includes(`nibble.input_basis.${name}`)).toBe(true);
  }
  expect(bytes.includes('nibble.input_basis.blk.0.ffn_down.weight')).toBe(false);  // 172 wide: F32
  const e = nibble('eval', out, '--text', path.join(QUALITY, 'calib.txt'), '--reference', GGUF, '--context', '64', '--precision', 'w4a4', '--json');
  expect(e.code).toBe(0);
  expect(JSON.parse(e.stdout).kl.mean).toBeGreaterThan(0);
  // Its directions need calibration data, and a rank needs the remedy.
  expect(nibble('quantize', GGUF, '-o', path.join(dir, 'x.gguf'), '--remedy', 'smooth+rotate+lowrank', '--imatrix', path.join(QUALITY, 'imatrix.gguf')).stderr)
    .toMatch(/^nibble quantize: --remedy smooth\+rotate\+lowrank takes its directions from calibration data/);
  expect(nibble('quantize', GGUF, '-o', path.join(dir, 'x.gguf'), '--rank', '4').stderr).toMatch(/^nibble quantize: --rank is the rank of --remedy \.\.\.\+lowrank/);
});

test('eval --json: llama.cpp\'s PPL and mean KLD of the Q4_0 file within 0.5 % and 1 %', () => {
  const q4 = path.join(dir, 'q4_0.gguf');
  expect(nibble('quantize', GGUF, '-o', q4, '--type', 'q4_0', '--pure').code).toBe(0);
  const r = nibble('eval', q4, '--text', SAMPLE, '--reference', GGUF, '--context', '256', '--json');
  expect(r.code).toBe(0);
  const got = JSON.parse(r.stdout);
  const want = RESULTS.results.find((x) => x.file === 'stories260K-q4_0-pure.gguf');
  expect(got.scored).toBe(5969);
  expect(Math.abs(got.perplexity / want.ppl - 1)).toBeLessThan(0.005);
  expect(Math.abs(got.kl.mean / want.kld_mean - 1)).toBeLessThan(0.01);
  const text = nibble('eval', q4, '--text', SAMPLE, '--context', '256');
  expect(text.stdout).toMatch(/12,123 tokens, 47 windows of 256, 5,969 scored\n {2}perplexity {7}4\.38\d\d ± 0\.10\d\d\n$/);
});

test.each([
  [['eval', GGUF], /^nibble eval: which text\? give it with --text <file>/],
  [['eval', GGUF, '--text', 'missing.txt'], /^nibble eval: cannot read 'missing\.txt': no such file/],
  [['eval', GGUF, '--text', SAMPLE, '--context', '4096'], /^nibble eval: --context is 4096 but the model's context length is \d+/],
  [['imatrix', GGUF, '-o', 'x.gguf'], /^nibble imatrix: give the calibration text with --text <file>, or --self <n>/],
  [['imatrix', GGUF, '--self', '100'], /^nibble imatrix: where to\? give the output file with -o <imatrix\.gguf>/],
  [['quantize', GGUF, '-o', 'x.gguf', '--imatrix', SAMPLE], /^nibble quantize: not an imatrix GGUF file/],
  [['quantize', GGUF, '-o', 'x.gguf', '--self', '100'], /^nibble quantize: --method gptq writes --pure q4_0 or iq4_nl files/],
  [['quantize', GGUF, '-o', 'x.gguf', '--method', 'gptq'], /^nibble quantize: --method needs calibration data/],
  [['quantize', GGUF, '-o', 'x.gguf', '--self', '100', '--calibrate', SAMPLE], /^nibble quantize: give either --calibrate <file> or --self <n>, not both/],
])('nibble %p fails with one line', (args, pattern) => {
  const r = nibble(...args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(pattern) });
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
});
