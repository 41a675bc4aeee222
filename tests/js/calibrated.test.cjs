// quantizeCalibrated(): GPTQ on calibration windows (stories260K, 512
// tokens of the fixtures' calib.txt) writes a file of the asked type (the
// 172-wide ffn_down F32) that loads, and whose KL divergence from the F32
// model on held-out text (the start of sample.txt, which shares no story with
// calib.txt) is well below round-to-nearest's at the same size.
const fs = require('node:fs');
const path = require('node:path');
const { expectThrown, loadNibble } = require('./load.cjs');
const { model } = require('./model_util.cjs');
const { ggufTensors } = require('./gguf_tensors.cjs');

const QUALITY = path.join(__dirname, '..', 'fixtures', 'quality');
const CALIB = fs.readFileSync(path.join(QUALITY, 'calib.txt'), 'utf8');
const SAMPLE = fs.readFileSync(path.join(QUALITY, 'sample.txt'), 'utf8');
const GGUF = model('stories260K.gguf');
const CONTEXT = 64;

jest.setTimeout(60000);

let nibble, f32;
beforeAll(async () => {
  ({ nibble } = await loadNibble(true));
  f32 = await nibble.loadModel(GGUF, { weights: 'f32' });
});
afterAll(() => f32?.dispose());

test('iq4_nl: a standard file of that type, KL on held-out text well below round-to-nearest', async () => {
  const type = 'iq4_nl';
  const calibration = f32.tokenize(CALIB).slice(0, 8 * CONTEXT);
  const heldOut = Int32Array.from(f32.tokenize(SAMPLE).slice(0, 12 * CONTEXT));
  const fractions = [];
  const r = await nibble.quantizeCalibrated(f32, calibration, { type, context: CONTEXT, onProgress: (p) => fractions.push(p.fraction) });
  expect([r.windows, r.context, r.type]).toEqual([8, CONTEXT, type]);
  expect(fractions.at(-1)).toBe(1);
  expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1])).toBe(true);

  const tensors = ggufTensors(Buffer.from(r.bytes));
  const matrices = Object.entries(tensors).filter(([, t]) => t.shape.length === 2);
  for (const [name, t] of matrices) expect([name, t.type]).toEqual([name, t.shape[0] % 32 ? 'F32' : type.toUpperCase()]);

  const gptq = await nibble.loadModel(r.bytes);
  const rtn = await nibble.loadModel(GGUF, { weights: type });
  try {
    expect(gptq.info.weightType).toBe(type);
    const kl = async (m) => (await nibble.evaluate(m, heldOut, { reference: f32, context: CONTEXT })).kl.mean;
    const [klGptq, klRtn] = [await kl(gptq), await kl(rtn)];
    expect(klGptq).toBeLessThan(0.8 * klRtn);
  } finally {
    gptq.dispose();
    rtn.dispose();
  }
});

test('bad input is refused with a message that says what to change', async () => {
  await expectThrown(() => nibble.quantizeCalibrated(f32, CALIB, { type: 'q4_1' }), RangeError, /'q4_0' or 'iq4_nl'/);
  await expectThrown(() => nibble.quantizeCalibrated(f32, null), TypeError, /options.self/);
  await expectThrown(() => nibble.quantizeCalibrated({}, CALIB), TypeError, /model must be a Model/);
  const q4 = await nibble.loadModel(GGUF, { weights: 'q4_0' });
  try {
    await expectThrown(() => nibble.quantizeCalibrated(q4, CALIB, { context: CONTEXT }), Error, /f32 weights/);
  } finally {
    q4.dispose();
  }
});
