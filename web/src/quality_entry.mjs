// The quality tools' file (dist/nibble-quality.{mjs,cjs}): evaluate() and
// collectImportance(); loaded by lazy_parts.mjs on the first call of either
// (quality.mjs).
export { evaluate } from './evaluate.mjs';
export { collectImportance } from './importance.mjs';
