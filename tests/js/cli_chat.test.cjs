// `nibble chat` driven through a pseudo-terminal (util-linux `script`), as a
// person types: a message gets a streamed reply and statistics; the second
// turn reuses the first one's cache; /reset forgets; Ctrl-C stops a reply in
// the middle and the chat goes on; Ctrl-D exits with code 0. A model without
// a template is refused with a hint. ~10 s (three node processes).
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { REPO, model, randomLlamaGguf } = require('./model_util.cjs');

const CLI = path.join(REPO, 'bin', 'nibble.mjs');
const CHATML = '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}' +
  '{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}';

let dir, file;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-chat-'));
  file = path.join(dir, 'chat.gguf');
  fs.writeFileSync(file, randomLlamaGguf({
    dim: 64, hidden: 128, layers: 2, heads: 4, kvHeads: 2, vocab: 700, context: 8192, seed: 3,
    control: ['<|im_start|>', '<|im_end|>'], metadata: { 'tokenizer.chat_template': CHATML },
  }));
});
afterAll(() => fs.rmSync(dir, { recursive: true }));
const running = new Set(); // terminals of a test that failed half-way
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});

// The command in a pseudo-terminal; send(text) types, waitFor(re) resolves
// once the output so far matches (after the given position).
function terminal(args) {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO, env: { ...process.env, TERM: 'dumb' } });
  let output = '';
  const waiters = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = w.re.exec(output.slice(w.from));
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(w.from + m.index + m[0].length);
      }
    }
  };
  child.stdout.on('data', (d) => { output += d.toString('utf8'); check(); });
  child.stderr.on('data', (d) => { output += d.toString('utf8'); check(); });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  running.add(child);
  exited.then(() => running.delete(child));
  return {
    send: (text) => child.stdin.write(text),
    waitFor: (re, from = 0) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${re} in:\n${output.slice(from)}`)), 20000);
      waiters.push({ re, from, resolve: (at) => { clearTimeout(timer); resolve(at); } });
      check();
    }),
    output: () => output,
    exited,
  };
}

test('a two-turn chat, /reset, /stats, Ctrl-D', async () => {
  const t = terminal(['chat', file, '--system', 'Be brief.', '--temperature', '0', '--max-tokens', '6', '--stats']);
  let at = await t.waitFor(/> $/m);
  t.send('Hello there\r');
  at = await t.waitFor(/\[(\d+) prompt tokens \((\d+) cached\)[^\]]*6 tokens at [\d.]+ tokens\/s; stopped: max_tokens\]/, at);
  const first = /\[(\d+) prompt tokens \((\d+) cached\)/.exec(t.output().slice(0, at));
  expect(Number(first[2])).toBe(0);
  t.send('And you?\r');
  at = await t.waitFor(/\[(\d+) prompt tokens \((\d+) cached\)[^\]]*\]/, at);
  const second = [...t.output().slice(0, at).matchAll(/\[(\d+) prompt tokens \((\d+) cached\)/g)].pop();
  expect(Number(second[2])).toBeGreaterThanOrEqual(Number(first[1])); // turn 1's prompt was not run again
  expect(Number(second[1])).toBeGreaterThan(Number(second[2]));
  t.send('/reset\r');
  at = await t.waitFor(/\(the conversation was reset\)/, at);
  t.send('/stats\r');
  at = await t.waitFor(/\[\d+ prompt tokens/, at);
  t.send('\x04');
  expect(await t.exited).toBe(0);
}, 60000);

test('Ctrl-C stops a long reply half-way, and the chat goes on', async () => {
  // A reply of up to 8000 tokens: seconds, so Ctrl-C comes in the middle.
  const t = terminal(['chat', file, '--temperature', '0', '--max-tokens', '8000', '--context', '8192', '--stats']);
  let at = await t.waitFor(/> $/m);
  t.send('Hello\r');
  at = await t.waitFor(/( w\d+){3}/, at); // the reply has begun
  t.send('\x03');
  at = await t.waitFor(/\(stopped\)\r?\n\[\d+ prompt tokens \(0 cached\) in \d+ ms, (\d+) tokens at [\d.]+ tokens\/s; stopped: abort\]/, at);
  const generated = Number(/(\d+) tokens at [\d.]+ tokens\/s; stopped: abort/.exec(t.output().slice(0, at))[1]);
  expect(generated).toBeLessThan(8000);
  t.send('Hello\r'); // the next message is answered (and stopped again)
  await t.waitFor(/( w\d+){3}/, at);
  t.send('\x03');
  await t.waitFor(/stopped: abort\]/, at);
  t.send('\x04');
  expect(await t.exited).toBe(0);
}, 60000);

test('a model without a chat template is refused with a hint', () => {
  const r = spawnSync(process.execPath, [CLI, 'chat', model('stories260K.gguf')], { cwd: REPO, encoding: 'utf8', input: '' });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^nibble chat: .*stories260K\.gguf has no chat template \(tokenizer\.chat_template\); give one with --template <file>, or use nibble generate\n$/);
});

test('a template file that cannot be read is refused before the model loads', () => {
  const r = spawnSync(process.execPath, [CLI, 'chat', model('stories260K.gguf'), '--template', 'missing.jinja'], { cwd: REPO, encoding: 'utf8', input: '' });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^nibble chat: cannot read 'missing\.jinja': no such file\n$/);
});
