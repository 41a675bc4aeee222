// The nibble demo page: loads the bundled model (or a .gguf the user picks or
// drops) in a Web Worker, streams generated text into the page, and shows
// what ran and how fast. A model with a chat template (tokenizer.chat_template)
// gets a chat: a system prompt, the conversation, Reset, and per-turn
// statistics with the prompt tokens reused from the previous turn's cache;
// one without (the bundled stories260K) continues a story. Served by demo/serve.mjs (npm run demo), with
// dist/ mounted at ./nibble/ and models/ at ./models/.
//
// tools/build_single_file.mjs reuses this file for the one-file page, which
// sets globalThis.nibbleDemoConfig first: { worker: false (no worker from
// file://), bundled: { name, detail, bytes() } (the embedded model) }.
import { init, loadModel } from './nibble/nibble.mjs';
import { setupQuantizePanel } from './quantize.mjs';

const config = globalThis.nibbleDemoConfig ?? {};
const USE_WORKER = config.worker ?? true;
const BUNDLED = config.bundled ?? { name: 'stories260K', url: new URL('./models/stories260K.gguf', location.href).href };
const STOP_REASONS = {
  eos: 'end of text',
  max_tokens: 'max tokens',
  context: 'context full',
  stop: 'stop string',
  abort: 'Stop button',
};
const WEIGHT_NAMES = { q4_0: 'INT4 · Q4_0', q4_1: 'INT4 · Q4_1', q8_0: 'INT8 · Q8_0', f16: 'FP16', f32: 'FP32' };

const $ = (id) => document.getElementById(id);
const ui = {
  sourceBundled: $('source-bundled'), bundledName: $('bundled-name'), bundledDetail: $('bundled-detail'), sourceFile: $('source-file'), file: $('file'), fileName: $('file-name'),
  fileDetail: $('file-detail'), drop: $('drop'), weights: $('weights'), threads: $('threads'), progress: $('progress'),
  percent: $('progress-percent'), loadStatus: $('load-status'), temperature: $('temperature'),
  temperatureRange: $('temperature-range'), topP: $('top-p'), topPRange: $('top-p-range'), maxTokens: $('max-tokens'),
  seed: $('seed'), newSeed: $('new-seed'), prompt: $('prompt'), generate: $('generate'), stop: $('stop'),
  promptLabel: $('prompt-label'), system: $('system'), reset: $('reset'), conversation: $('conversation'), cached: $('stat-cached'),
  output: $('output'), outputPrompt: $('output-prompt'), outputText: $('output-text'), error: $('error'),
  speed: $('stat-speed'), tokens: $('stat-tokens'), promptTime: $('stat-prompt'), ttft: $('stat-ttft'), generateTime: $('stat-generate'),
  stopReason: $('stat-stop'), size: $('stat-size'), weightInfo: $('stat-weights'), wasm: $('stat-wasm'),
  badgeSimd: $('badge-simd'), badgeThreads: $('badge-threads'), badgeWorker: $('badge-worker'),
};

const demo = {
  model: null, // the loaded model (a worker-backed Model)
  loading: null, // AbortController of the load in progress
  running: null, // AbortController of the generation in progress
  file: null, // the user's File, once picked or dropped
  loads: 0, // increases with each load; a stale load disposes what it got
  chat: false, // the model has a chat template
  messages: [], // the conversation so far (user and assistant turns)
  quantize: {}, // the Quantize panel: { result: { bytes, klBefore, klAfter, file }, error, url }
};
window.nibbleDemo = demo; // for the browser tests and the curious

// ---------------------------------------------------------------------------
// Formatting

const mb = (bytes) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
const ms = (t) => (t >= 1000 ? `${(t / 1000).toFixed(2)} s` : `${t.toFixed(t < 10 ? 2 : 1)} ms`);
const weightName = (type) => WEIGHT_NAMES[type] ?? type.toUpperCase();

function setState(state) {
  document.body.dataset.state = state;
  ui.generate.disabled = state !== 'ready';
  ui.stop.disabled = state !== 'generating';
  ui.output.setAttribute('aria-busy', String(state === 'generating'));
}

function showError(error) {
  ui.error.textContent = error?.message ?? String(error);
  ui.error.hidden = false;
  console.error(error);
}

function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function setBadge(badge, on, text) {
  badge.textContent = text;
  badge.classList.toggle('on', on);
}

// ---------------------------------------------------------------------------
// Loading

function showProgress({ status, loaded, total, fraction }, name, fromUrl) {
  ui.progress.value = fraction;
  ui.percent.textContent = `${Math.floor(fraction * 100)} %`;
  const of = total ? ` — ${mb(loaded)} of ${mb(total)}` : ` — ${mb(loaded)}`;
  if (status === 'download') ui.loadStatus.textContent = `Downloading ${name}${of}`;
  else if (status === 'load') ui.loadStatus.textContent = `${fromUrl ? 'Reading from the browser cache' : `Reading ${name}`}${of}`;
}

function showModel(model, runtime, name, loadMs) {
  const { info } = model;
  const threads = info.threads ?? runtime.threads ?? 1;
  ui.loadStatus.textContent = `Ready · ${name}, ${weightName(info.weightType)}, loaded in ${ms(loadMs)}`;
  const ratio = info.fp32Bytes / info.loadedBytes;
  ui.size.innerHTML = '';
  ui.size.append(`FP32 ${mb(info.fp32Bytes)} → ${mb(info.loadedBytes)} as loaded `,
    Object.assign(document.createElement('span'), { className: 'dim', textContent: ratio > 1.05 ? `(${ratio.toFixed(1)}× smaller)` : '(no compression)' }));
  const fallbacks = info.fallbacks ?? [];
  const kept = [...new Set(fallbacks.map((f) => f.type))].map(weightName).join(', ');
  ui.weightInfo.textContent = `${weightName(info.weightType)} (file: ${weightName(info.fileWeightType)})` +
    (fallbacks.length ? ` · ${fallbacks.length} matrices in ${kept}: ${fallbacks[0].reason}` : '');
  const simd = runtime.flavour?.startsWith('simd-relaxed') ? 'SIMD128 + relaxed' : 'SIMD128';
  ui.wasm.textContent = `${runtime.simd ? simd : 'scalar (no SIMD)'} · ${threads} thread${threads === 1 ? '' : 's'} · ${runtime.worker ? 'in a Web Worker' : 'on the page'}`;
  setBadge(ui.badgeSimd, runtime.simd, runtime.simd ? 'SIMD' : 'no SIMD');
  setBadge(ui.badgeThreads, threads > 1, `${threads} thread${threads === 1 ? '' : 's'}`);
  setBadge(ui.badgeWorker, Boolean(runtime.worker), runtime.worker ? 'Web Worker' : 'main thread');
}

// The model the Model panel has chosen: the user's file, or the bundled one.
function chosenSource() {
  const useFile = Boolean(ui.sourceFile.checked && demo.file);
  return { source: useFile ? demo.file : (BUNDLED.url ?? BUNDLED.bytes()), name: useFile ? demo.file.name : BUNDLED.name, useFile };
}

async function load() {
  const seq = ++demo.loads;
  demo.running?.abort();
  demo.loading?.abort();
  demo.model?.dispose();
  demo.model = null;
  clearError();
  const { source, name, useFile } = chosenSource();
  const controller = (demo.loading = new AbortController());
  setState('loading');
  showProgress({ status: useFile ? 'load' : 'download', loaded: 0, total: 0, fraction: 0 }, name, false);
  const t0 = performance.now();
  let fromUrl = false;
  try {
    const model = await loadModel(source, {
      worker: USE_WORKER,
      cache: typeof source === 'string', // the bundled model is kept in the Cache API: a reload reads it from disk
      weights: ui.weights.value,
      // 'auto': the threaded build when the page is cross-origin isolated (demo/serve.mjs makes it so).
      // Each load starts a new worker, so each can pick its own build.
      threads: ui.threads.value === 'auto' ? 'auto' : Number(ui.threads.value),
      signal: controller.signal,
      onProgress: (event) => {
        fromUrl = !useFile && event.status === 'load';
        showProgress(event, name, fromUrl);
      },
    });
    if (seq !== demo.loads) {
      model.dispose();
      return;
    }
    const loadMs = performance.now() - t0;
    // A worker-backed model tells which build it runs; on the page, init() does.
    const runtime = model.runtime ?? { ...(await init()), worker: false };
    if (seq !== demo.loads) return;
    demo.model = model;
    demo.loading = null;
    showModel(model, runtime, name, loadMs);
    setMode(model.tokenizer.chatTemplate !== null);
    setState('ready');
  } catch (error) {
    if (seq !== demo.loads) return; // replaced by a newer load
    demo.loading = null;
    ui.loadStatus.textContent = `Could not load ${name}.`;
    showError(error);
    setState('error');
  }
}

function pickFile(file) {
  if (!file) return;
  demo.file = file;
  ui.sourceFile.disabled = false;
  ui.sourceFile.checked = true;
  ui.fileName.textContent = file.name;
  ui.fileDetail.textContent = `your file · ${mb(file.size)}`;
  if (!/\.gguf$/i.test(file.name)) ui.fileDetail.textContent += ' · not named .gguf';
  load();
}

// ---------------------------------------------------------------------------
// Generation

function numberFrom(input, fallback) {
  const value = input.valueAsNumber;
  return Number.isFinite(value) ? value : fallback;
}

function resetStats() {
  for (const dd of [ui.speed, ui.tokens, ui.promptTime, ui.ttft, ui.cached, ui.generateTime, ui.stopReason]) dd.textContent = '–';
}

// Chat (the model has a template) or story completion.
function setMode(chat) {
  demo.chat = chat;
  document.body.dataset.mode = chat ? 'chat' : 'story';
  for (const element of document.querySelectorAll('.chat-only')) element.hidden = !chat;
  ui.promptLabel.textContent = chat ? 'Message' : 'Prompt';
  ui.generate.textContent = chat ? 'Send' : 'Generate';
  if (chat && ui.prompt.value === 'Once upon a time') ui.prompt.value = 'Hello! Who are you?';
  resetChat();
}

function resetChat() {
  demo.messages = [];
  ui.conversation.textContent = '';
  ui.outputPrompt.textContent = '';
  ui.outputText.textContent = '';
}

// A message of the conversation on the page; returns where its text goes.
function addMessage(role, text) {
  const item = Object.assign(document.createElement('div'), { className: `msg ${role}` });
  item.append(Object.assign(document.createElement('span'), { className: 'who', textContent: role }));
  const body = item.appendChild(Object.assign(document.createElement('span'), { className: 'text', textContent: text }));
  ui.conversation.append(item);
  return body;
}

function showStats(stats) {
  ui.speed.textContent = stats.tokensPerSecond.toFixed(0);
  ui.tokens.textContent = `${stats.promptTokens} + ${stats.generatedTokens}`;
  ui.promptTime.textContent = ms(stats.promptMs);
  ui.ttft.textContent = stats.ttftMs === null ? '–' : ms(stats.ttftMs);
  ui.cached.textContent = `${stats.cachedTokens} of ${stats.promptTokens}`;
  ui.generateTime.textContent = ms(stats.generateMs);
  ui.stopReason.textContent = STOP_REASONS[stats.stopReason] ?? stats.stopReason;
}

// Text arrives faster than the screen refreshes: it is added once per frame.
const stream = { pending: '', frame: 0, pieces: 0, first: 0, target: null };

function flush() {
  stream.frame = 0;
  if (stream.pending) {
    const atBottom = ui.output.scrollHeight - ui.output.scrollTop - ui.output.clientHeight < 40;
    stream.target.append(stream.pending);
    stream.pending = '';
    if (atBottom) ui.output.scrollTop = ui.output.scrollHeight;
  }
  if (stream.pieces > 0) {
    const seconds = (performance.now() - stream.first) / 1000;
    ui.tokens.textContent = `… + ${stream.pieces}`;
    if (seconds > 0.05) ui.speed.textContent = `≈ ${(stream.pieces / seconds).toFixed(0)}`;
  }
}

async function generate() {
  if (!demo.model || demo.running) return;
  clearError();
  const prompt = ui.prompt.value;
  if (demo.chat && prompt.trim() === '') return;
  const controller = (demo.running = new AbortController());
  const options = {
    maxTokens: Math.round(numberFrom(ui.maxTokens, 200)),
    temperature: numberFrom(ui.temperature, 0.8),
    topP: numberFrom(ui.topP, 0.95),
    topK: 0, // top-p alone decides
    seed: Math.round(numberFrom(ui.seed, 42)),
    signal: controller.signal,
  };
  let run;
  if (demo.chat) {
    // The whole conversation goes every turn; the model's cache keeps the
    // part it has seen, so only the new turn is run (stats.cachedTokens).
    demo.messages.push({ role: 'user', content: prompt });
    addMessage('user', prompt);
    stream.target = addMessage('assistant', '');
    ui.prompt.value = '';
    const system = ui.system.value.trim();
    run = demo.model.chat([...(system ? [{ role: 'system', content: system }] : []), ...demo.messages], { ...options, truncate: 'oldest' });
  } else {
    ui.outputPrompt.textContent = prompt;
    ui.outputText.textContent = '';
    stream.target = ui.outputText;
    run = demo.model.generate(prompt, options);
  }
  resetStats();
  Object.assign(stream, { pending: '', pieces: 0, first: performance.now() });
  setState('generating');
  try {
    let text = '';
    for await (const piece of run) {
      text += piece;
      stream.pending += piece;
      stream.pieces += 1;
      stream.frame ||= requestAnimationFrame(flush);
    }
    cancelAnimationFrame(stream.frame);
    flush();
    if (demo.chat) demo.messages.push({ role: 'assistant', content: text });
    showStats(await run.stats);
  } catch (error) {
    cancelAnimationFrame(stream.frame);
    flush();
    if (demo.chat) demo.messages.pop(); // the message that failed is not part of the conversation
    showError(error);
  } finally {
    demo.running = null;
    if (demo.model) setState('ready');
  }
}

// ---------------------------------------------------------------------------
// Wiring

function linkSlider(range, number) {
  range.addEventListener('input', () => { number.value = range.value; });
  number.addEventListener('input', () => { range.value = number.value; });
}
linkSlider(ui.temperatureRange, ui.temperature);
linkSlider(ui.topPRange, ui.topP);

ui.newSeed.addEventListener('click', () => { ui.seed.value = String(Math.floor(Math.random() * 2 ** 31)); });
ui.generate.addEventListener('click', generate);
ui.stop.addEventListener('click', () => demo.running?.abort());
ui.reset.addEventListener('click', () => {
  demo.running?.abort();
  resetChat();
  resetStats();
});
ui.prompt.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    generate();
  }
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && demo.running) demo.running.abort();
});
ui.weights.addEventListener('change', load);
ui.threads.addEventListener('change', load);
// Only as many threads as this machine has cores.
const cores = navigator.hardwareConcurrency || 1;
for (const option of [...ui.threads.options]) if (option.value !== 'auto' && Number(option.value) > Math.max(cores, 1)) option.remove();
ui.threads.options[0].textContent = `Auto (${cores} core${cores === 1 ? '' : 's'})`;
if (!globalThis.crossOriginIsolated) {
  // Wasm threads need SharedArrayBuffer, which needs COOP/COEP headers.
  ui.threads.value = '1';
  ui.threads.disabled = true;
  $('threads-hint').textContent = 'One thread: this page is not cross-origin isolated (COOP/COEP headers), which wasm threads need.';
}
ui.sourceBundled.addEventListener('change', load);
ui.sourceFile.addEventListener('change', () => demo.file && load());
ui.file.addEventListener('change', () => pickFile(ui.file.files[0]));

// Drag and drop anywhere on the page.
let dragDepth = 0;
const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
document.addEventListener('dragenter', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  if (dragDepth++ === 0) {
    document.body.classList.add('dragging');
    ui.drop.classList.add('over');
  }
});
document.addEventListener('dragover', (e) => {
  if (hasFiles(e)) e.preventDefault();
});
const endDrag = () => {
  dragDepth = 0;
  document.body.classList.remove('dragging');
  ui.drop.classList.remove('over');
};
document.addEventListener('dragleave', (e) => {
  if (hasFiles(e) && --dragDepth <= 0) endDrag();
});
document.addEventListener('drop', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  endDrag();
  pickFile(e.dataTransfer.files[0]);
});

if (config.bundled) {
  ui.bundledName.textContent = BUNDLED.name;
  ui.bundledDetail.textContent = BUNDLED.detail;
}
load();
setupQuantizePanel(chosenSource, demo.quantize);
