import { quantize, errorStats } from 'nibble-llm';

// W is rows × cols (rows = outputs, cols = inputs), row-major float32.
const rows = 256, cols = 512;
const weights = new Float32Array(rows * cols).map(() => Math.random() - 0.5);

const q = await quantize(weights, [rows, cols], { type: 'q4_0', clip: 'mse' });
console.log(q.type, q.shape, q.byteLength, q.bitsPerWeight); // q4_0 [ 256, 512 ] 73728 4.5

const x = new Float32Array(cols).fill(0.5);
const y = q.matmul(x);                                // y = W·x, W4A8 (int8 activations)
const yRef = q.matmul(x, { precision: 'w4a32' });     // f32 activations
console.log(y.length, yRef.length);                   // 256 256

const { rmse, sqnrDb, cosine } = errorStats(weights, q);
console.log(`rmse ${rmse.toFixed(4)}, SQNR ${sqnrDb.toFixed(1)} dB, cosine ${cosine.toFixed(4)}`);

const bytes = q.toBytes();  // the GGUF Q4_0 blocks, a Uint8Array you own
q.dispose();                // frees the wasm memory; q cannot be used after this
