// The CommonJS side of the typed usage example (require through "exports").
import nibble = require('nibble-llm');

export async function exampleCjs(): Promise<number> {
  const q: nibble.QuantizedMatrix = await nibble.quantize(new Float32Array(32), [1, 32], { type: 'q4_0' });
  const y = q.matmul(new Float32Array(32));
  q.dispose();
  const model: nibble.Model = await nibble.loadModel('models/stories260K.gguf');
  const { stats } = await model.complete('Once upon a time', { maxTokens: 8 });
  model.dispose();
  return (y[0] ?? 0) + stats.generatedTokens;
}
