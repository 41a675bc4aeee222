// runChecks(nibble, simd): quantize + dequantize + matmul in the page,
// compared with the plain-JS reference (tests/js/reference.cjs, loaded as
// globalThis.nibbleReference). Resolves to { info, checks, failures }.
// Shared by the ES module page and the script-tag page.
async function runChecks(nibble, simdParam) {
  const ref = globalThis.nibbleReference;
  const simd = simdParam === 'true' ? true : simdParam === 'false' ? false : simdParam === 'relaxed' ? 'relaxed' : 'auto';
  const info = await nibble.init({ simd });
  const failures = [];
  let checks = 0;
  const check = (ok, what) => {
    checks++;
    if (!ok) failures.push(what);
  };
  for (const type of ['q4_0', 'q4_1']) {
    for (const [rows, cols] of [[3, 64], [13, 160], [32, 512]]) {
      const where = `${type} [${rows}, ${cols}]`;
      const w = ref.randomFloats(rows * cols, rows * 31 + cols, 2);
      const q = await nibble.quantize(w, [rows, cols], { type });
      const want = ref.quantize(w, rows, cols, type);
      const got = q.toBytes();
      const badByte = got.findIndex((v, i) => v !== want[i]);
      check(got.length === want.length && badByte < 0, `${where}: byte ${badByte} is ${got[badByte]}, reference ${want[badByte]}`);
      const dq = q.dequantize(), dqWant = ref.dequantize(want, rows * cols, type);
      const badW = dq.findIndex((v, i) => v !== dqWant[i]);
      check(badW < 0, `${where}: dequantized w[${badW}] is ${dq[badW]}, reference ${dqWant[badW]}`);
      for (const m of [1, 3]) {
        const x = ref.randomFloats(m * cols, m + cols, 3);
        for (const precision of ['w4a8', 'w4a32']) {
          const y = q.matmul(x, m, { precision });
          const r = ref.matmul(want, rows, cols, type, x, m, precision);
          const i = ref.firstMismatch(y, r.y, r.scale, 1e-5, 1e-6);
          check(y.length === m * rows && i < 0, `${where} ${precision} m=${m}: y[${i}] is ${y[i]}, reference ${r.y[i]}`);
        }
      }
      q.dispose();
    }
  }
  try {
    await nibble.quantize(new Float32Array(40), [1, 40]);
    check(false, 'K = 40 was accepted');
  } catch (e) {
    check(e instanceof RangeError && /multiple of 32/.test(e.message), `K = 40 threw ${e}`);
  }
  return { info, checks, failures };
}
