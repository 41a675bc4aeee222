// Run by readme.test.cjs in a plain `node` (no flags): the ES module build
// loads in Node and gives the reference results. Prints "ok <build>" or
// throws (non-zero exit) with what differed. Argument: simd | scalar | auto.
import { createRequire } from 'node:module';
import * as nibble from '../../dist/nibble.mjs';

const ref = createRequire(import.meta.url)('./reference.cjs');
const simd = { simd: true, scalar: false, auto: 'auto' }[process.argv[2] ?? 'auto'];
const info = await nibble.init({ simd });
const rows = 9, cols = 96;
const w = ref.randomFloats(rows * cols, 42, 2);
const x = ref.randomFloats(2 * cols, 43, 2);
for (const type of ['q4_0', 'q4_1']) {
  const q = await nibble.quantize(w, [rows, cols], { type });
  const want = ref.quantize(w, rows, cols, type);
  const got = q.toBytes();
  const bad = got.findIndex((v, i) => v !== want[i]);
  if (bad >= 0 || got.length !== want.length) throw new Error(`${type}: byte ${bad} differs from the reference`);
  for (const precision of ['w4a8', 'w4a32']) {
    const y = q.matmul(x, 2, { precision });
    const r = ref.matmul(want, rows, cols, type, x, 2, precision);
    const i = ref.firstMismatch(y, r.y, r.scale, 1e-5, 1e-6);
    if (i >= 0) throw new Error(`${type} ${precision}: y[${i}] = ${y[i]}, reference ${r.y[i]}`);
  }
  q.dispose();
}
console.log(`ok ${info.simd ? 'simd' : 'scalar'}`);
