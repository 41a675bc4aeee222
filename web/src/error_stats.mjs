// errorStats: how far an approximation is from the original, in plain JS
// (float64 sums), with the definitions of error_stats() in src/quant/quantize.h.
import { QuantizedMatrix } from './quantized_matrix.mjs';
import { rangeError, typeError } from './errors.mjs';
import { describe, tagOf } from './validate.mjs';

const WHERE = 'errorStats';

function checkNumbers(value, name) {
  const ok = Array.isArray(value) || (ArrayBuffer.isView(value) && /^Float(32|64)Array$/.test(tagOf(value)));
  if (!ok) throw typeError(WHERE, `${name} must be a Float32Array, a Float64Array or an array of numbers, got ${describe(value)}`);
}

/**
 * original[n] vs approx (a QuantizedMatrix of n weights, or n numbers):
 *   rmse        sqrt(Σ(x − y)² / n)
 *   maxAbsError max |x − y|
 *   sqnrDb      10·log10(Σx² / Σ(x − y)²), Infinity when y equals x
 *   cosine      Σxy / (|x|·|y|), 1 when both are all zeros
 */
export function errorStats(original, approx) {
  checkNumbers(original, 'original');
  let y = approx;
  if (approx instanceof QuantizedMatrix) {
    const [rows, cols] = approx.shape;
    if (original.length !== rows * cols) {
      throw rangeError(WHERE, `original.length is ${original.length}, but the matrix has shape [${rows}, ${cols}] = ${rows * cols} weights`);
    }
    y = approx.dequantize();
  } else {
    checkNumbers(approx, 'approx');
    if (approx.length !== original.length) {
      throw rangeError(WHERE, `original.length is ${original.length} but approx.length is ${approx.length}; they must match`);
    }
  }
  const n = original.length;
  let sxx = 0, syy = 0, sxy = 0, see = 0, maxAbsError = 0;
  for (let i = 0; i < n; i++) {
    const a = original[i], b = y[i], e = a - b;
    sxx += a * a;
    syy += b * b;
    sxy += a * b;
    see += e * e;
    if (Math.abs(e) > maxAbsError) maxAbsError = Math.abs(e);
  }
  return {
    rmse: n > 0 ? Math.sqrt(see / n) : 0,
    maxAbsError,
    sqnrDb: see > 0 ? 10 * Math.log10(sxx / see) : Infinity,
    cosine: sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : (sxx === syy ? 1 : 0),
  };
}
