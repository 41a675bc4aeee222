const nibble = require('nibble-llm'); // or: import * as nibble from 'nibble-llm'
const fs = require('node:fs');

(async () => {
  // Optional: picks the build; the .wasm is read from disk next to the package.
  const { simd } = await nibble.init({ simd: 'auto' });
  console.log('SIMD build:', simd);

  const rows = 128, cols = 256;
  const weights = new Float32Array(rows * cols).map((_, i) => Math.sin(i));
  const q = await nibble.quantize(weights, [rows, cols], { type: 'q4_0' });
  fs.writeFileSync('weights.q4_0', q.toBytes());   // GGUF Q4_0 blocks
  q.dispose();

  const loaded = await nibble.fromBytes(fs.readFileSync('weights.q4_0'), [rows, cols], 'q4_0');
  const y = loaded.matmul(new Float32Array(cols).fill(1));
  console.log(y.length, nibble.errorStats(weights, loaded).cosine > 0.99); // 128 true
  loaded.dispose();
})();
