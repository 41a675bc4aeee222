// A typed usage example: must pass `npx tsc --noEmit -p tests/types`.
// The @ts-expect-error lines check that the types reject misuse.
import {
  errorStats, fromBytes, init, loadModel, loadTokenizer, Model, Tokenizer, optionChoices, quantize, QuantizedMatrix, simdSupported, version,
  type ChatMessage, type ErrorStats, type Generation, type GenerationStats, type LoadProgress, type ModelInfo,
  type QuantizeOptions, type RuntimeInfo, type StopReason, type WorkerModel,
} from 'nibble-llm';

export async function example(): Promise<number> {
  const info: RuntimeInfo = await init({ simd: simdSupported() ? 'auto' : false, wasmPath: new URL('https://example.invalid/nibble/') });
  const simd: boolean = info.simd;

  const rows = 64, cols = 128;
  const weights = new Float32Array(rows * cols);
  const options: QuantizeOptions = { type: 'q4_1', clip: 'mse', importance: new Float32Array(cols).fill(1) };
  const q: QuantizedMatrix = await quantize(weights, [rows, cols], options);
  const shape: readonly [number, number] = q.shape;
  const bytes: Uint8Array = q.toBytes();
  const w: Float32Array = q.dequantize();
  const y1: Float32Array = q.matmul(new Float32Array(cols));
  const y2: Float32Array = q.matmul(new Float32Array(2 * cols), 2, { precision: 'w4a32' });
  const y3: Float32Array = q.matmul(new Float32Array(cols), { precision: 'w4a8' });
  const stats: ErrorStats = errorStats(weights, q);
  const again = await fromBytes(bytes, [rows, cols], 'q4_1');
  const third = await QuantizedMatrix.fromBytes(bytes.buffer, shape, q.type);
  q.dispose();
  again.dispose();
  third.dispose();

  // @ts-expect-error: unknown type name
  await quantize(weights, [rows, cols], { type: 'q3_k' });
  // @ts-expect-error: shape is [rows, cols]
  await quantize(weights, [rows]);
  // @ts-expect-error: weights are a Float32Array
  await quantize([1, 2, 3], [1, 3]);
  // @ts-expect-error: precision is 'w4a8' | 'w4a32'
  q.matmul(y1, 1, { precision: 'int8' });
  // @ts-expect-error: logits takes token ids, not text
  model.logits('Once upon a time');
  // @ts-expect-error: no public constructor
  new QuantizedMatrix();
  // @ts-expect-error: read-only
  q.type = 'q4_0';
  const clip = optionChoices.clip[0];
  await quantize(weights, [rows, cols], { clip });
  // @ts-expect-error: the choices are read-only
  optionChoices.clip.push('max');

  return (simd ? 1 : 0) + w.length + y2.length + y3.length + stats.rmse + stats.maxAbsError +
    stats.sqnrDb + stats.cosine + q.byteLength + q.bitsPerWeight + version.length;
}

export async function textExample(file: Blob, bytes: Uint8Array): Promise<string> {
  const controller = new AbortController();
  const model: Model = await loadModel('https://example.invalid/stories260K.gguf', {
    onProgress: (p: LoadProgress) => console.log(p.status, p.loaded, p.total ?? '?', p.fraction),
    signal: controller.signal,
    weights: 'q4_0',
    clip: 'mse',
    context: 256,
  });
  const fromFile = await loadModel(file, { weights: 'f32' });
  const llama2c = await loadModel(bytes.buffer, { tokenizer: new URL('https://example.invalid/tok512.bin') });
  const info: ModelInfo = model.info;
  const ids: number[] = model.tokenize('Once upon a time', { addBos: true });
  let text = model.detokenize(ids);

  const run: Generation = model.generate('Once upon a time', {
    maxTokens: 100, temperature: 0.8, topK: 40, topP: 0.95, seed: 1, stop: ['\n\n'], signal: controller.signal,
    onToken: (id) => ids.push(id),
  });
  for await (const piece of run) text += piece;
  const stats: GenerationStats = await run.stats;
  const reason: StopReason = stats.stopReason;
  const done = await fromFile.complete(ids, { temperature: 0 });
  const gguf: Uint8Array = llama2c.toGguf();
  const scores: Float32Array = model.logits(ids, { precision: 'w4a32', batch: 1 });

  // @ts-expect-error: weights are a WeightType ('f32', 'q4_0' ... 'iq4_nl')
  await loadModel('x.gguf', { weights: 'q3_k' });
  // @ts-expect-error: stop is a list of strings
  model.generate('x', { stop: 'x' });
  // @ts-expect-error: logits takes token ids, not text
  model.logits('Once upon a time');
  // @ts-expect-error: no public constructor
  new Model();
  // @ts-expect-error: read-only
  model.info = info;

  // The engine in a Web Worker: same API, data-returning calls are async.
  const inWorker: WorkerModel = await loadModel('model.gguf', { worker: true, cache: true, threads: 'auto' });
  const workerIds: number[] = await inWorker.tokenize('Once');
  const viaWorker: boolean = inWorker.runtime.worker && inWorker.runtime.simd;
  const workerScores: Float32Array = await inWorker.logits(workerIds);
  for await (const piece of inWorker.generate(workerIds, { maxTokens: 4 })) text += piece;
  inWorker.dispose();
  text += String(viaWorker);

  // Tokenizers and chat.
  const tok: Tokenizer = await loadTokenizer('vocab.gguf', {});
  const special: number[] = tok.encode('<|im_start|>user', { parseSpecial: true, addBos: false });
  const eog: readonly number[] = tok.endOfGeneration;
  const template: string | null = model.tokenizer.chatTemplate;
  const messages: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }];
  const prompt: string = await tok.applyChatTemplate(messages, { addGenerationPrompt: true, now: new Date(), enable_thinking: false });
  const turn = model.chat(messages, { maxTokens: 8, truncate: 'oldest', templateVariables: { enable_thinking: false } });
  for await (const piece of turn) text += piece;
  const cached: number = (await turn.stats).cachedTokens;
  const workerPiece: string = await inWorker.tokenizer.tokenToPiece(tok.bos);
  // @ts-expect-error: truncate is 'none' or 'oldest'
  model.chat(messages, { truncate: 'newest' });
  // @ts-expect-error: read-only
  tok.bos = 1;
  tok.dispose();
  text += `${special.length}${eog.length}${template}${prompt}${cached}${workerPiece}${tok.decode(special)}${tok.tokenToPiece(0)}`;

  model.dispose();
  fromFile.dispose();
  llama2c.dispose();
  return `${text}${reason}${done.text}${done.stats.tokensPerSecond}${info.fallbacks.length}${info.config.dim}${gguf.byteLength}${stats.promptMs}${scores.length}${workerScores.length}`;
}
