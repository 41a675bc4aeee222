// Loads a fresh copy of the CommonJS build (dist/nibble.cjs) with its own
// wasm module, so one test file can hold the SIMD and the scalar build at once.
const path = require('node:path');

const DIST = path.join(__dirname, '..', '..', 'dist');

async function loadNibble(simd) {
  let nibble;
  jest.isolateModules(() => {
    nibble = require(path.join(DIST, 'nibble.cjs'));
  });
  const info = await nibble.init({ simd });
  return { nibble, info };
}

module.exports = { DIST, loadNibble };
