import { loadModel } from 'nibble-llm';

// A GGUF file (or a llama2.c checkpoint with { tokenizer: 'tok512.bin' }).
const model = await loadModel('models/stories260K.gguf', {
  onProgress: ({ status, fraction }) => { if (status === 'ready') console.log('loaded', fraction); },
});
const { weightType, fallbacks, loadedBytes, fp32Bytes } = model.info;
console.log(weightType, fallbacks.length, `${(fp32Bytes / loadedBytes).toFixed(1)}x smaller than f32`);

const run = model.generate('Once upon a time', { maxTokens: 40, temperature: 0.8, seed: 42 });
let story = '';
for await (const text of run) story += text; // or process.stdout.write(text)
const stats = await run.stats;
console.log(stats.generatedTokens, stats.stopReason, stats.tokensPerSecond > 0);

const { text } = await model.complete('Lily wanted to', { maxTokens: 20, temperature: 0, stop: ['.'] });
console.log(JSON.stringify(text));
model.dispose();
