// Tokenizer.applyChatTemplate: the 108 cases of tests/fixtures/chat (12 real
// templates × 9 conversations) render exactly as Python's Jinja renders them
// for transformers (errors a template raises on purpose included); dates
// come from options.now in English; a model without a template is told so;
// hostile templates (deep recursion, huge ranges, reaching for JS objects, 1
// MB of text) fail or render without harm; 120 seeded random edits of the
// real templates each render or fail with a nibble error (~6 s in all here,
// on a loaded machine; the 108 cases ~4 s, the 1 MB template ~3 s).
// The vocabularies and the wasm take seconds to load on a busy machine.
jest.setTimeout(60000);
const fs = require('node:fs');
const path = require('node:path');
const { expectThrown, loadNibble } = require('./load.cjs');

const CHAT = path.join(__dirname, '..', 'fixtures', 'chat');
const spec = JSON.parse(fs.readFileSync(path.join(CHAT, 'cases.json'), 'utf8'));
// The fixtures' frozen instant, local time (as Python's strftime saw it).
const [day, time] = spec.render.strftime_now.split('T');
const NOW = new Date(...day.split('-').map((v, i) => Number(v) - (i === 1 ? 1 : 0)), ...time.split(':').map(Number));

let nibble, qwen, stories;
beforeAll(async () => {
  ({ nibble } = await loadNibble('auto'));
  qwen = await nibble.loadTokenizer(path.join(__dirname, '..', 'fixtures', 'ggml-vocab-qwen2.gguf'));
  stories = await nibble.loadTokenizer(path.join(__dirname, '..', '..', 'models', 'stories260K.gguf'));
});
afterAll(() => {
  qwen.dispose();
  stories.dispose();
});

test('all 108 cases render as Python Jinja does (transformers\' settings)', async () => {
  let checked = 0;
  const failures = [];
  for (const [name, tokens] of Object.entries(spec.templates)) {
    const template = fs.readFileSync(path.join(CHAT, 'templates', `${name}.jinja`), 'utf8');
    const expected = JSON.parse(fs.readFileSync(path.join(CHAT, 'expected', `${name}.json`), 'utf8')).results;
    for (const c of spec.cases) {
      const options = { template, now: NOW, addGenerationPrompt: c.add_generation_prompt, bosToken: tokens.bos_token, eosToken: tokens.eos_token, ...c.extra };
      const want = expected[c.id];
      let got;
      try {
        got = { output: await qwen.applyChatTemplate(c.messages, options) };
      } catch (e) {
        got = { error: e.message };
      }
      if ('error' in want) {
        if (got.error !== `nibble.Tokenizer.applyChatTemplate: the chat template raised an error: ${want.error}`) failures.push({ name, id: c.id, want, got });
      } else if (got.output !== want.output) {
        failures.push({ name, id: c.id, want, got });
      }
      checked++;
    }
  }
  expect(failures).toEqual([]);
  expect(checked).toBe(108);
});

test('the file\'s own template is the default, and bos_token / eos_token are the tokenizer\'s', async () => {
  const messages = [{ role: 'user', content: 'Hi' }];
  const own = await qwen.applyChatTemplate(messages, { addGenerationPrompt: true });
  expect(own).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  expect(await qwen.applyChatTemplate(messages, { template: '{{ bos_token }}|{{ eos_token }}' }))
    .toBe(`${qwen.bosToken}|${qwen.eosToken}`);
  expect(await qwen.applyChatTemplate(messages, { template: '{{ bos_token is defined }}', bosToken: null })).toBe('false');
  expect(await qwen.applyChatTemplate(messages, { template: '{{ enable_thinking }}', enable_thinking: false })).toBe('false');
});

test('dates: options.now, formatted in English whatever the locale', async () => {
  const template = '{{ strftime_now("%d %b %Y %A %B %H:%M:%S %y %j %p %I %%") }}';
  expect(await qwen.applyChatTemplate([], { template, now: new Date(2024, 2, 5, 21, 5, 9) }))
    .toBe('05 Mar 2024 Tuesday March 21:05:09 24 065 PM 09 %');
  expect(await qwen.applyChatTemplate([], { template: '{{ strftime_now("%Y") }}', now: Date.UTC(2030, 5, 15) })).toBe('2030');
  await expectThrown(() => qwen.applyChatTemplate([], { template, now: 'today' }), TypeError, /options\.now must be a Date or a time in milliseconds, got/);
});

test('no template: a clear error, unless one is given', async () => {
  expect(stories.chatTemplate).toBe(null);
  await expectThrown(() => stories.applyChatTemplate([{ role: 'user', content: 'Hi' }]), Error,
    /^Error: nibble\.Tokenizer\.applyChatTemplate: this model has no chat template \(no tokenizer\.chat_template in its file\); pass one as options\.template/);
  expect(await stories.applyChatTemplate([{ role: 'user', content: 'Hi' }], { template: '{% for m in messages %}{{ m.content }}{% endfor %}' })).toBe('Hi');
  await expectThrown(() => stories.applyChatTemplate('Hi', { template: 'x' }), TypeError, /messages must be an array of \{ role, content \}/);
  await expectThrown(() => stories.applyChatTemplate([{ content: 'Hi' }], { template: 'x' }), TypeError, /messages\[0\] must be an object with a string role/);
  await expectThrown(() => stories.applyChatTemplate([], { template: '{% if %}' }), Error, /the chat template does not parse/);
  await expectThrown(() => stories.applyChatTemplate([], { template: 'x', messages: [] }), TypeError, /the template variable 'messages' is set by nibble/);
});

describe('hostile templates', () => {
  test('a macro that calls itself forever fails with a RangeError', async () => {
    // (A macro does not see its own name; it is handed itself as an argument.)
    const template = '{% macro f(n, h) %}{{ h(n + 1, h) }}{% endmacro %}{{ f(0, f) }}';
    await expectThrown(() => qwen.applyChatTemplate([], { template }), RangeError, /the chat template recursed too deep/);
  });

  test('a huge range() is refused at once', async () => {
    const started = Date.now();
    await expectThrown(() => qwen.applyChatTemplate([], { template: '{% for i in range(1000000000) %}x{% endfor %}' }), Error,
      /range\(\) of 1000000000 items is more than the 100000 a chat template may ask for/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('JavaScript objects and globals are out of reach', async () => {
    const template = "{{ messages.constructor }}|{{ ''.constructor }}|{{ range.constructor }}|{{ messages.__proto__ }}|{{ process }}|{{ globalThis }}";
    const out = await qwen.applyChatTemplate([{ role: 'user', content: 'x' }], { template }).catch((e) => e.message);
    expect(out).not.toMatch(/function|native code|\[object|process|env/i);
  });

  test('a 1 MB template renders (3 s here on a loaded machine; bound 20 s)', async () => {
    const block = '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}';
    const template = `${block}${'x'.repeat(1 << 20)}`;
    const started = Date.now();
    const out = await qwen.applyChatTemplate([{ role: 'user', content: 'Hi' }], { template });
    expect(out.length).toBe('<|im_start|>user\nHi<|im_end|>\n'.length + (1 << 20));
    expect(Date.now() - started).toBeLessThan(20000);
  });
});

test('seeded random edits of the 12 real templates render or fail with a nibble error (a small fuzz of the template path)', async () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  const ALPHABET = '{}%#-+()[]|.,:=\'" \nxia01_';
  const messages = spec.cases.find((c) => c.id === 'c_multi_turn.gen').messages;
  const outcomes = { rendered: 0, failed: 0 };
  for (const name of Object.keys(spec.templates)) {
    const original = fs.readFileSync(path.join(CHAT, 'templates', `${name}.jinja`), 'utf8');
    for (let i = 0; i < 10; i++) {
      const chars = [...original];
      for (let edits = 1 + (next() % 4); edits > 0; edits--) {
        const at = next() % chars.length;
        const kind = next() % 3;
        if (kind === 0) chars.splice(at, 1);
        else if (kind === 1) chars.splice(at, 0, ALPHABET[next() % ALPHABET.length]);
        else chars.splice(at, 1 + (next() % 8));
      }
      try {
        const out = await qwen.applyChatTemplate(messages, { template: chars.join(''), now: NOW, addGenerationPrompt: true });
        expect(typeof out).toBe('string');
        outcomes.rendered++;
      } catch (e) {
        // Only the template's own failures, each with its error class: an
        // edit cannot make the messages or options wrong.
        expect(`${e.constructor.name}: ${e.message}`).toMatch(
          /^(Error: nibble\.Tokenizer\.applyChatTemplate: the chat template (does not parse|raised an error|failed): |RangeError: nibble\.Tokenizer\.applyChatTemplate: the chat template recursed too deep \()/);
        outcomes.failed++;
      }
    }
  }
  expect(outcomes.rendered + outcomes.failed).toBe(12 * 10);
  expect(outcomes.rendered).toBeGreaterThan(0);
  expect(outcomes.failed).toBeGreaterThan(0);
});
