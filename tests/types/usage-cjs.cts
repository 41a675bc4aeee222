// The CommonJS side of the typed usage example (require through "exports").
import nibble = require('nibble');

export async function exampleCjs(): Promise<number> {
  const q: nibble.QuantizedMatrix = await nibble.quantize(new Float32Array(32), [1, 32], { type: 'q4_0' });
  const y = q.matmul(new Float32Array(32));
  q.dispose();
  return y[0] ?? 0;
}
