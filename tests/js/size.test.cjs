// The SIMD build a page downloads (API + glue + .wasm) stays under its
// gzipped budget (bench/sizes.mjs, which says why it is 204 KB, not 170).
const { execFileSync } = require('node:child_process');
const path = require('node:path');

test('shipped sizes are within budget', () => {
  const script = path.join(__dirname, '..', '..', 'bench', 'sizes.mjs');
  const result = JSON.parse(execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' }));
  expect(result.error).toBeUndefined();
  expect(Object.keys(result.builds).sort()).toEqual(['scalar', 'simd', 'simd-relaxed', 'simd-relaxed-threads', 'simd-threads']);
  expect(result.builds.simd).toMatchObject({ budgetGzipBytes: 204 * 1024, withinBudget: true });
  expect(result.builds['simd-relaxed']).toMatchObject({ budgetGzipBytes: 204 * 1024, withinBudget: true });
});
