// quantizeCalibrated(model, text, options): output-aware quantization (GPTQ,
// src/model/calibrated_quantize.h) of a model loaded with weights 'f32',
// calibrated on a text or on tokens the model samples itself. Returns the
// quantized model as a standard GGUF file (llama.cpp runs it unchanged).
import { typeError } from './errors.mjs';
import { macrotask } from './generation.mjs';
import { calibrationWindows } from './importance.mjs';
import { throwIfAborted } from './sources.mjs';
import { checkCalibratedOptions, describe } from './validate.mjs';

/**
 * `model` (weights 'f32') quantized to options.type against the activations
 * of `text` (a string, token ids with BOS first, or null with options.self);
 * see index.d.ts. calibrationOf(model): the model's calibration access
 * (Model's [CALIBRATE], model.mjs), or undefined for anything else; asked
 * anew for each use, so that a model disposed meanwhile says so.
 */
export async function quantizeCalibrated(model, text, options, calibrationOf) {
  const where = 'quantizeCalibrated';
  const access = calibrationOf(model);
  if (!access) throw typeError(where, `model must be a Model from loadModel() (not in a worker), got ${describe(model)}`);
  const checked = checkCalibratedOptions(options, where);
  const { type, onProgress, signal } = checked;
  const { windows, tokens, context } = await calibrationWindows(model, text, checked, where);
  await access.open(); // the tools, loaded on first use
  access.clear();
  try {
    access.begin(type);
    for (const ids of windows) access.window(ids);
    for (let fraction = 0; fraction < 1;) {
      throwIfAborted(signal, where);
      fraction = calibrationOf(model).step();
      onProgress?.({ status: 'quantize', fraction });
      await macrotask(); // let abort signals and the page run
    }
    const bytes = calibrationOf(model).file();
    return Object.freeze({ bytes, type, tokens, windows: windows.length, context });
  } finally {
    if (!model.disposed) calibrationOf(model).clear();
  }
}
