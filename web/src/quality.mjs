// evaluate(), collectImportance() and quantizeCalibrated() as the API exports
// them: each loads the nibble-quality file (quality_entry.mjs) on first use
// and calls its implementation (evaluate.mjs, importance.mjs,
// calibrated.mjs), so that pages that only run models never download them.
import { loadQuality } from './lazy_parts.mjs';
import { CALIBRATE, IMPORTANCE, LOW_RANK } from './model.mjs';

/** How well `model` predicts `text` (see evaluate.mjs and index.d.ts). */
export async function evaluate(model, text, options) {
  return (await loadQuality('evaluate')).evaluate(model, text, options);
}

/** An importance matrix of `model` from `text` (see importance.mjs and index.d.ts). */
export async function collectImportance(model, text, options) {
  // The part is a bundle of its own: it reaches Model's private access
  // through this function, not through a symbol it would import itself.
  return (await loadQuality('collectImportance')).collectImportance(model, text, options, (m) => m?.[IMPORTANCE]);
}

/** `model` quantized with calibration (see calibrated.mjs and index.d.ts). */
export async function quantizeCalibrated(model, text, options) {
  return (await loadQuality('quantizeCalibrated')).quantizeCalibrated(model, text, options, (m) => m?.[CALIBRATE]);
}

/** `model`'s GGUF file with W4A4's low-rank remedy (see importance.mjs and index.d.ts). */
export async function lowRankRemedy(model, text, options) {
  return (await loadQuality('lowRankRemedy')).lowRankRemedy(model, text, options, (m) => m?.[LOW_RANK]);
}
