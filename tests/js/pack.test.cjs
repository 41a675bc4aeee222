// The npm package as a user gets it: `npm pack` the repository, install the
// tarball offline into a scratch project outside the repository (with an
// empty npm cache: the package must need nothing from a registry), then run
// the README's Node example (imports 'nibble-llm' by name), require() it,
// and run the `nibble` command from node_modules/.bin.
// It packs the dist/ that `npm test` has just built (--ignore-scripts skips
// the prepack build, tools/prepack.sh, which a release runs).
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { REPO, model, references } = require('./model_util.cjs');

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let scratch, tarball, files;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-pack-'));
  const packed = JSON.parse(execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch],
    { cwd: REPO, encoding: 'utf8', timeout: 120000 }));
  tarball = path.join(scratch, packed[0].filename);
  files = packed[0].files.map((f) => f.path).sort();

  const project = path.join(scratch, 'project');
  fs.mkdirSync(path.join(project, 'models'), { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  fs.copyFileSync(model('stories260K.gguf'), path.join(project, 'models', 'stories260K.gguf'));
  fs.copyFileSync(path.join(__dirname, 'model_readme', 'node.mjs'), path.join(project, 'readme.mjs'));
  execFileSync(npm, ['install', tarball, '--offline', '--no-audit', '--no-fund', '--cache', path.join(scratch, 'empty-cache')],
    { cwd: project, encoding: 'utf8', timeout: 120000, env: withoutRepo() });
}, 240000);
afterAll(() => { if (scratch) fs.rmSync(scratch, { recursive: true, force: true }); });

// The environment minus anything that could point back at the repository.
function withoutRepo() {
  const env = { ...process.env };
  delete env.NODE_PATH;
  for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key];
  return env;
}
function runInProject(file, args) {
  const r = spawnSync(file, args, { cwd: path.join(scratch, 'project'), encoding: 'utf8', timeout: 60000, env: withoutRepo() });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test(`the tarball is ${pkg.name}-${pkg.version}.tgz and holds the API, every wasm build, the CLI and no sources`, () => {
  expect(path.basename(tarball)).toBe(`${pkg.name}-${pkg.version}.tgz`);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/nibble.mjs', 'bin/chat_session.mjs',
    'dist/nibble.mjs', 'dist/nibble.cjs', 'dist/nibble.global.js', 'dist/nibble.d.ts', 'dist/nibble-worker.mjs',
    'dist/nibble-chat.mjs', 'dist/nibble-chat.cjs', 'dist/nibble-quality.mjs', 'dist/nibble-quality.cjs',
    'dist/nibble-worker-client.mjs', 'dist/nibble-worker-client.cjs', 'dist/nibble-cache.mjs', 'dist/nibble-cache.cjs']) {
    expect(files).toContain(f);
  }
  for (const flavour of ['simd', 'simd-relaxed', 'simd-threads', 'simd-relaxed-threads', 'scalar']) {
    for (const ext of ['mjs', 'cjs', 'wasm']) expect(files).toContain(`dist/nibble-${flavour}.${ext}`);
  }
  expect(files.filter((f) => !/^(dist|bin)\/|^[A-Z]+\.md$|^LICENSE$|^package\.json$/.test(f))).toEqual([]);
});

test('the README Node example runs from the installed package', () => {
  const installed = path.join(scratch, 'project', 'node_modules', 'nibble-llm');
  expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);  // a copy, not a link to the repository
  const r = runInProject(process.execPath, ['readme.mjs']);
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/^loaded 1\nq4_0 5 3\.2x smaller than f32\n40 max_tokens true\n" go to the park with her mommy"\n$/);
});

test("require('nibble-llm') gives the API of this version", () => {
  const r = runInProject(process.execPath, ['-e', "const n = require('nibble-llm'); console.log(n.version, typeof n.loadModel, require.resolve('nibble-llm'))"]);
  expect(r.stdout).toBe(`${pkg.version} function ${path.join(fs.realpathSync(scratch), 'project', 'node_modules', 'nibble-llm', 'dist', 'nibble.cjs')}\n`);
});

test('the nibble command runs from node_modules/.bin', () => {
  const bin = path.join(scratch, 'project', 'node_modules', '.bin', 'nibble');
  expect(runInProject(bin, ['--version']).stdout).toBe(`${pkg.version}\n`);
  const ref = references[0];
  const maxTokens = ref.token_ids.length - ref.prompt_token_ids.length;
  const r = runInProject(bin, ['generate', 'models/stories260K.gguf', '--weights', 'f32', '--prompt', ref.prompt,
    '--max-tokens', String(maxTokens), '--temperature', '0', '--quiet']);
  expect(r).toEqual({ code: 0, stdout: ref.output_text, stderr: '' });
});
