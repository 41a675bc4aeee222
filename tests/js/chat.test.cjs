// Model.chat on a small random-weight model with a ChatML template: the
// prompt is the template's rendering with control tokens parsed; turn 2 of a
// conversation runs only its new tokens (the KV cache of turn 1 is reused,
// stats.cachedTokens) and gives the same greedy text as a cold run; generate()
// reuses a shared prefix too; a conversation too long for the context fails
// saying by how much, or drops its oldest turns with truncate: 'oldest'.
// ~3 s.
// The vocabularies and the wasm take seconds to load on a busy machine.
jest.setTimeout(60000);
const { expectThrown, loadNibble } = require('./load.cjs');
const { model, randomLlamaGguf } = require('./model_util.cjs');

const CHATML = '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}' +
  '{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}';
const FILE = randomLlamaGguf({
  dim: 64, hidden: 128, layers: 2, heads: 4, kvHeads: 2, vocab: 700, context: 512, seed: 3,
  control: ['<|im_start|>', '<|im_end|>'], words: ['▁Hello', '▁there', 'user', 'assistant', 'system'],
  metadata: { 'tokenizer.chat_template': CHATML },
});
const GREEDY = { temperature: 0, maxTokens: 12 };
const TURN1 = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }];

let nibble;
beforeAll(async () => {
  ({ nibble } = await loadNibble('auto'));
});

async function collect(run) {
  let text = '';
  for await (const piece of run) text += piece;
  return { text, stats: await run.stats };
}

// Length of the common prefix of two id lists.
function commonPrefix(a, b) {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

test('the prompt is the template rendered, its control tokens parsed', async () => {
  const m = await nibble.loadModel(FILE);
  const tok = m.tokenizer;
  const rendered = await tok.applyChatTemplate(TURN1, { addGenerationPrompt: true });
  const ids = tok.encode(rendered, { parseSpecial: true });
  const imStart = tok.encode('<|im_start|>', { parseSpecial: true, addSpecial: false });
  expect(imStart).toHaveLength(1);
  expect(ids.filter((id) => id === imStart[0])).toHaveLength(3);
  expect(tok.isEndOfGeneration(tok.encode('<|im_end|>', { parseSpecial: true, addSpecial: false })[0])).toBe(true);
  const { stats } = await collect(m.chat(TURN1, GREEDY));
  expect(stats.promptTokens).toBe(ids.length);
  expect(stats.cachedTokens).toBe(0);
  // Time to first token: the template's rendering and the prompt's run included.
  if (stats.generatedTokens > 0) expect(stats.ttftMs).toBeGreaterThanOrEqual(stats.promptMs);
  else expect(stats.ttftMs).toBeNull();
  m.dispose();
});

test('turn 2 prefills only its new tokens and gives the cold run\'s greedy text', async () => {
  const warm = await nibble.loadModel(FILE);
  const tok = warm.tokenizer;
  const generated = [];
  const turn1 = await collect(warm.chat(TURN1, { ...GREEDY, onToken: (id) => generated.push(id) }));
  const prompt1 = tok.encode(await tok.applyChatTemplate(TURN1, { addGenerationPrompt: true }), { parseSpecial: true });
  const turn2Messages = [...TURN1, { role: 'assistant', content: turn1.text }, { role: 'user', content: 'there Hello' }];
  const prompt2 = tok.encode(await tok.applyChatTemplate(turn2Messages, { addGenerationPrompt: true }), { parseSpecial: true });
  const turn2 = await collect(warm.chat(turn2Messages, GREEDY));
  expect(turn2.stats.promptTokens).toBe(prompt2.length);
  // The cache held turn 1's prompt and the tokens fed after it (all
  // generated ones but the last, which ended the run unfed).
  const cachedSequence = [...prompt1, ...generated.slice(0, turn1.stats.stopReason === 'eos' ? generated.length : -1)];
  expect(turn2.stats.cachedTokens).toBe(commonPrefix(prompt2, cachedSequence));
  expect(turn2.stats.cachedTokens).toBeGreaterThanOrEqual(prompt1.length);

  const cold = await nibble.loadModel(FILE);
  const coldTurn2 = await collect(cold.chat(turn2Messages, GREEDY));
  expect(coldTurn2.stats.cachedTokens).toBe(0);
  expect(turn2.text).toBe(coldTurn2.text);
  cold.dispose();
  warm.dispose();
});

test('generate() reuses a shared prefix; another precision or prompt starts afresh', async () => {
  const m = await nibble.loadModel(FILE);
  const a = m.tokenize('Hello there Hello there Hello');
  const b = [...a, ...m.tokenize(' there there', { addBos: false })];
  await collect(m.generate(a, GREEDY));
  const reused = await collect(m.generate(b, GREEDY));
  expect(reused.stats.cachedTokens).toBe(a.length);
  const cold = await nibble.loadModel(FILE);
  expect((await collect(cold.generate(b, GREEDY))).text).toBe(reused.text);
  const same = await collect(m.generate(b, GREEDY)); // the whole prompt cached: its last token runs again
  expect(same.stats.cachedTokens).toBe(b.length - 1);
  expect(same.text).toBe(reused.text);
  expect((await collect(m.generate([b[0], b[2]], GREEDY))).stats.cachedTokens).toBe(1);
  expect((await collect(m.generate([b[0], b[2]], { ...GREEDY, precision: 'w4a32' }))).stats.cachedTokens).toBe(0);
  cold.dispose();
  m.dispose();
});

test('a conversation longer than the context: a RangeError saying by how much, or the oldest turns dropped', async () => {
  const context = 150;
  const m = await nibble.loadModel(FILE, { context });
  const long = [{ role: 'system', content: 'Be brief.' }];
  for (let i = 0; i < 6; i++) long.push({ role: 'user', content: 'Hello there' }, { role: 'assistant', content: 'there Hello' });
  long.push({ role: 'user', content: 'Hello' });
  const size = async (messages) => m.tokenize(await m.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }), { parseSpecial: true }).length;
  const full = await size(long);
  // What fits: the system prompt, the last exchange and the last message (one more exchange would not).
  const fits = await size([long[0], ...long.slice(-3)]);
  expect([full > context, fits <= context, await size([long[0], ...long.slice(-5)]) > context]).toEqual([true, true, true]);
  await expectThrown(() => collect(m.chat(long, GREEDY)), RangeError,
    new RegExp(`^RangeError: nibble\\.Model\\.chat: the conversation is ${full} tokens, ${full - context} more than the context holds \\(${context}\\); drop old messages, pass truncate: 'oldest'`));
  const { stats } = await collect(m.chat(long, { ...GREEDY, maxTokens: 2, truncate: 'oldest' }));
  expect(stats.promptTokens).toBe(fits);
  await expectThrown(() => collect(m.chat([{ role: 'user', content: 'Hello there '.repeat(40) }], { ...GREEDY, truncate: 'oldest' })), RangeError,
    /even with only the system prompt and the last message, the conversation is \d+ tokens/);
  m.dispose();
});

test('a model without a chat template: a clear error unless options.template is given', async () => {
  const stories = await nibble.loadModel(model('stories260K.gguf'));
  await expectThrown(() => collect(stories.chat([{ role: 'user', content: 'Once' }])), Error, /this model has no chat template/);
  const { text, stats } = await collect(stories.chat([{ role: 'user', content: 'Once upon a time' }], { ...GREEDY, template: '{{ messages[0].content }}' }));
  expect(text).toBe((await collect(stories.generate('Once upon a time', GREEDY))).text);
  expect(stats.promptTokens).toBe(5);
  await expectThrown(() => stories.chat([], { truncate: 'newest' }), RangeError, /options\.truncate must be 'none' or 'oldest'/);
  stories.dispose();
});
