// Run by gc.test.cjs as `node --expose-gc`: matrices dropped without
// dispose() are freed by the FinalizationRegistry once collected.
const nibble = require('../../dist/nibble.cjs');

(async () => {
  await nibble.init();
  const before = nibble._debug.heapBytesInUse();
  for (let i = 0; i < 200; i++) await nibble.quantize(new Float32Array(64 * 256).fill(i), [64, 256]);
  const leaked = nibble._debug.heapBytesInUse() - before;
  for (let round = 0; round < 20 && nibble._debug.heapBytesInUse() > before; round++) {
    global.gc();
    await new Promise((resolve) => setTimeout(resolve, 20)); // finalizers run between tasks
  }
  console.log(JSON.stringify({ leaked, left: nibble._debug.heapBytesInUse() - before }));
})();
