// The download of a page (API + glue + .wasm) of the SIMD and relaxed-SIMD
// builds stays under the gzipped budget of bench/sizes.mjs (issue 11: 170 KB),
// and what only some pages use stays out of it, in files loaded on demand:
// the lazy JS parts and those builds' tools modules (wasm).
const { execFileSync } = require('node:child_process');
const path = require('node:path');

test('shipped sizes are within budget', () => {
  const script = path.join(__dirname, '..', '..', 'bench', 'sizes.mjs');
  const result = JSON.parse(execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' }));
  expect(result.error).toBeUndefined();
  expect(Object.keys(result.builds).sort()).toEqual(['scalar', 'simd', 'simd-relaxed', 'simd-relaxed-threads', 'simd-threads']);
  for (const build of ['simd', 'simd-relaxed']) {
    expect(result.builds[build]).toMatchObject({ budgetGzipBytes: 170 * 1024, withinBudget: true });
    expect(result.builds[build].gzipBytes).toBeLessThanOrEqual(170 * 1024);
  }
  expect(Object.keys(result.onDemand).sort()).toEqual(['cache', 'chat', 'quality', 'simd-relaxed-tools', 'simd-tools', 'worker', 'worker-client']);
});
