// The quality tools' file (dist/nibble-quality.{mjs,cjs}): evaluate(),
// collectImportance() and quantizeCalibrated(); loaded by lazy_parts.mjs on
// the first call of any of them (quality.mjs).
export { evaluate } from './evaluate.mjs';
export { collectImportance, lowRankRemedy } from './importance.mjs';
export { quantizeCalibrated } from './calibrated.mjs';
