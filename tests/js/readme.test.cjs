// Plain `node` (Node 20, no flags) runs the README's Node snippets and the
// ES module build; the browser snippets run in tests/browser.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function runNode(file, args = [], cwd = __dirname) {
  return execFileSync(process.execPath, [path.join(__dirname, file), ...args], { cwd, encoding: 'utf8', timeout: 60000 });
}

test('README npm-import snippet runs as an ES module in Node, importing the package by name', () => {
  const out = runNode('readme/npm-import.mjs');
  expect(out).toMatch(/^q4_0 \[ 256, 512 \] 73728 4\.5\n256 256\nrmse 0\.\d+, SQNR \d+\.\d dB, cosine 0\.99\d\d\n$/);
});

test('README Node snippet runs with require() and round-trips a file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-readme-'));
  try {
    const out = runNode('readme/node.cjs', [], dir);
    expect(out).toBe('SIMD build: true\n128 true\n');
    expect(fs.statSync(path.join(dir, 'weights.q4_0')).size).toBe(128 * 256 / 32 * 18);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.each(['simd', 'scalar'])('the ES module build gives the reference results in Node (%s)', (build) => {
  expect(runNode('esm-check.mjs', [build])).toBe(`ok ${build}\n`);
});

test('README script-tag snippet loads the script-tag build from nibble/', () => {
  const html = fs.readFileSync(path.join(__dirname, 'readme', 'script-tag.html'), 'utf8');
  expect(html).toContain('<script src="nibble/nibble.global.js"></script>');
});

test('README.md shows these snippets exactly as they are tested', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  for (const file of ['npm-import.mjs', 'script-tag.html', 'node.cjs']) {
    const snippet = fs.readFileSync(path.join(__dirname, 'readme', file), 'utf8').trimEnd();
    if (!readme.includes(snippet)) throw new Error(`README.md does not contain tests/js/readme/${file} verbatim; copy it into the README (or fix the file)`);
  }
});
