// The demo's Quantize panel: the model chosen in the Model panel (bundled,
// or the user's F16/F32 .gguf) quantized on the page to an INT4 GGUF file,
// by round-to-nearest or, with calibration (tokens the model samples itself,
// or a pasted text), by GPTQ (quantizeCalibrated). Shows the progress and
// the KL divergence from the FP32 model on a held-out sample (tokens the
// model samples with other seeds than the calibration's), for rounding to
// nearest and for the file made, and offers the file for download.
import { evaluate, loadModel, quantizeCalibrated } from './nibble/nibble.mjs';

const CONTEXT = 128; // tokens per calibration and evaluation window
const HELD_OUT_TOKENS = 768;
const HELD_OUT_SEED = 9001; // calibration samples use seeds from 1 on: no overlap
const CALIBRATION_SEED = 1;

const $ = (id) => document.getElementById(id);

// `count` token ids sampled from `model` (FP32) in runs of CONTEXT, each from BOS.
async function sampleIds(model, count, seed) {
  const bos = model.info.bos >= 0 ? model.info.bos : 0;
  const ids = [];
  for (let run = 0; ids.length < count; run++) {
    ids.push(bos);
    await model.complete([bos], {
      maxTokens: Math.min(CONTEXT, count - ids.length + 1) - 1, temperature: 1, topK: 0, topP: 1, seed: seed + run,
      onToken: (id) => ids.push(id),
    });
  }
  return Int32Array.from(ids.slice(0, count));
}

// pickSource() -> { source, name }: what the Model panel has chosen.
export function setupQuantizePanel(pickSource, state) {
  const ui = {
    type: $('quant-type'), calibration: $('quant-calibration'), selfField: $('quant-self-field'), self: $('quant-self'),
    textField: $('quant-text-field'), text: $('quant-text'), button: $('quantize'), download: $('quant-download'),
    progress: $('quant-progress'), percent: $('quant-percent'), status: $('quant-status'), results: $('quant-results'),
    before: $('quant-kl-before'), after: $('quant-kl-after'), size: $('quant-size'),
  };
  const show = (fraction, text) => {
    ui.progress.value = fraction;
    ui.percent.textContent = `${Math.floor(fraction * 100)} %`;
    if (text) ui.status.textContent = text;
  };
  const showCalibration = () => {
    ui.selfField.hidden = ui.calibration.value !== 'self';
    ui.textField.hidden = ui.calibration.value !== 'text';
  };
  ui.calibration.addEventListener('change', showCalibration);
  showCalibration();

  async function run() {
    const { source, name } = pickSource();
    const type = ui.type.value;
    const calibration = ui.calibration.value;
    ui.button.disabled = true;
    ui.results.hidden = true;
    ui.download.hidden = true;
    if (state.url) URL.revokeObjectURL(state.url);
    state.result = null;
    state.error = undefined;
    const models = [];
    const keep = (m) => (models.push(m), m);
    try {
      show(0, `Loading ${name} as FP32…`);
      const f32 = keep(await loadModel(source, { weights: 'f32', worker: false, context: CONTEXT }));
      if (!['f32', 'f16'].includes(f32.info.fileWeightType)) {
        throw new Error(`${name} holds ${f32.info.fileWeightType} matrices; quantize an F16 or F32 GGUF file`);
      }
      show(0.05, 'Sampling a held-out text from the FP32 model…');
      const heldOut = await sampleIds(f32, HELD_OUT_TOKENS, HELD_OUT_SEED);
      const kl = async (model, from, to) => (await evaluate(model, heldOut, {
        reference: f32, context: CONTEXT, onProgress: (p) => show(from + (to - from) * p.fraction),
      })).kl;
      show(0.1, `Rounding to nearest (${type})…`);
      const rounded = keep(await loadModel(source, { weights: type, worker: false, context: CONTEXT }));
      const before = await kl(rounded, 0.1, 0.25);
      let bytes, after;
      if (calibration === 'none') {
        bytes = rounded.toGguf();
        after = before;
      } else {
        show(0.25, calibration === 'self' ? 'Sampling calibration tokens…' : 'Calibrating on the pasted text…');
        const text = calibration === 'self' ? null : ui.text.value;
        const r = await quantizeCalibrated(f32, text, {
          type, context: CONTEXT, self: calibration === 'self' ? ui.self.valueAsNumber : undefined, seed: CALIBRATION_SEED,
          onProgress: (p) => show(0.25 + 0.6 * p.fraction, `GPTQ, layer after layer (${type})…`),
        });
        bytes = r.bytes;
        show(0.85, 'Measuring the new file…');
        after = await kl(keep(await loadModel(bytes, { worker: false, context: CONTEXT })), 0.85, 1);
      }
      state.url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      ui.download.href = state.url;
      ui.download.download = `${name.replace(/\.gguf$/i, '')}-${type}${calibration === 'none' ? '' : '-gptq'}.gguf`;
      ui.download.textContent = `Download ${ui.download.download}`;
      ui.download.hidden = false;
      ui.before.textContent = before.mean.toFixed(4);
      ui.after.textContent = after.mean.toFixed(4);
      ui.size.textContent = `${(bytes.byteLength / 1e6).toFixed(2)} MB`;
      ui.results.hidden = false;
      state.result = { bytes: bytes.byteLength, klBefore: before.mean, klAfter: after.mean, file: ui.download.download };
      show(1, `Done: mean KL ${after.mean.toFixed(4)} on ${heldOut.length} held-out tokens (rounding to nearest: ${before.mean.toFixed(4)}).`);
    } catch (error) {
      state.error = error?.message ?? String(error);
      show(0, `Could not quantize: ${state.error}`);
    } finally {
      for (const m of models) m.dispose();
      ui.button.disabled = false;
    }
  }
  ui.button.addEventListener('click', run);
}
