// Loads a fresh copy of the CommonJS build (dist/nibble.cjs) with its own
// wasm module, so one test file can hold the SIMD and the scalar build at once.
const path = require('node:path');

const DIST = path.join(__dirname, '..', '..', 'dist');

// Node 20 runs relaxed SIMD only behind a V8 flag, which can be set at run
// time. Test files that load the relaxed build call this in beforeAll and the
// returned function in afterAll (the flag would outlive the file in Jest's
// worker process).
function enableRelaxedSimd() {
  const v8 = require('node:v8');
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return () => v8.setFlagsFromString('--no-experimental-wasm-relaxed-simd');
}

async function loadNibble(simd) {
  let nibble;
  jest.isolateModules(() => {
    nibble = require(path.join(DIST, 'nibble.cjs'));
  });
  const info = await nibble.init({ simd });
  return { nibble, info };
}

// fn() throws (or rejects) an instance of `type` whose message matches
// `pattern`; returns the error. Uses Jest's global expect.
async function expectThrown(fn, type, pattern) {
  let error = null;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  if (error === null) throw new Error(`expected a ${type.name} matching ${pattern}, nothing was thrown`);
  expect(`${error.constructor.name}: ${error.message}`).toMatch(pattern);
  expect(error).toBeInstanceOf(type);
  return error;
}

module.exports = { DIST, enableRelaxedSimd, expectThrown, loadNibble };
