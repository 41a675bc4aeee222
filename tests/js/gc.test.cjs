// A matrix that is dropped without dispose() is freed after garbage collection.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

test('FinalizationRegistry frees matrices that were never disposed', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, 'gc-check.cjs')], { encoding: 'utf8' });
  const { leaked, left } = JSON.parse(out);
  expect(leaked).toBeGreaterThanOrEqual(200 * 64 * 256 / 32 * 18); // the matrices were alive
  expect(left).toBe(0);
});
