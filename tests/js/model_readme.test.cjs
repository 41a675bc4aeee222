// The README's text-generation snippets run as shown: the Node one here with
// plain `node` (importing the package by name), the browser one in
// tests/browser/model.test.mjs.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { REPO } = require('./model_util.cjs');

const SNIPPETS = path.join(__dirname, 'model_readme');

test('README text-generation snippet runs in Node', () => {
  const out = execFileSync(process.execPath, [path.join(SNIPPETS, 'node.mjs')], { cwd: REPO, encoding: 'utf8', timeout: 60000 });
  expect(out).toMatch(/^loaded 1\nq4_0 5 3\.2x smaller than f32\n40 max_tokens true\n" go to the park with her mommy"\n$/);
});

test('README.md shows the text-generation snippets verbatim', () => {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  for (const file of ['node.mjs', 'page.html']) {
    const snippet = fs.readFileSync(path.join(SNIPPETS, file), 'utf8').trimEnd();
    if (!readme.includes(snippet)) throw new Error(`README.md does not contain tests/js/model_readme/${file} verbatim`);
  }
});
