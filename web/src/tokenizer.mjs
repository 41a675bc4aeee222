// Tokenizer: text <-> token ids with a model's vocabulary, held in the wasm
// heap by a C++ handle (src/api/text_tokenizer.h). Either a model's own
// (model.tokenizer, freed with the model) or one read from a GGUF file alone
// by loadTokenizer(), which reads the file's header (its metadata) and stops:
// a vocab-only file works, and a model's tensors are never downloaded.
import { plainError, rangeError, throwIfFailed, typeError } from './errors.mjs';
import { loadChat } from './lazy_parts.mjs';
import { copyIn, copyOutBytes, currentModule, currentPlatform, getModule, takeResult, withHeapBuffers } from './runtime.mjs';
import { openSource, throwIfAborted } from './sources.mjs';
import { checkIds, checkSource, checkTokenizeOptions, deepFreeze, describe } from './validate.mjs';

const CONSTRUCT = Symbol('Tokenizer.construct');
// The properties of a Tokenizer that are plain data (a WorkerModel's
// tokenizer gets them from the worker once).
export const TOKENIZER_FACTS = Object.freeze(['kind', 'pre', 'vocabSize', 'bos', 'eos', 'eot', 'eom', 'unk', 'pad',
  'endOfGeneration', 'addBos', 'addEos', 'bosToken', 'eosToken', 'chatTemplate']);
// For Model only: the streamed piece of a token, and freeing a model's tokenizer.
export const PIECE = Symbol('Tokenizer.piece');
export const RELEASE = Symbol('Tokenizer.release');
const PIECE_BYTES = 256; // a token's bytes fit easily; longer ones get a bigger buffer
const FIRST_HEADER_TRY = 1 << 16; // bytes; each failed parse of a header waits for twice as many

const leakGuard = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ wasm, handle, scratch }) => {
    if (!handle.isDeleted()) handle.delete();
    wasm._free(scratch);
  })
  : null;

const utf8 = new TextEncoder();

function takeText(wasm, handle, where) {
  return takeResult(wasm, handle, where, (ptr, n) => new TextDecoder().decode(copyOutBytes(wasm, ptr, n)));
}

// The public facts of a tokenizer (from TextTokenizer::info_json).
function describeTokenizer(json, tokenText) {
  const info = JSON.parse(json);
  const text = (id) => (id >= 0 ? tokenText(id) : null);
  return deepFreeze({
    ...info,
    chatTemplate: info.chatTemplate === '' ? null : info.chatTemplate,
    bosToken: text(info.bos),
    eosToken: text(info.eos),
  });
}

export class Tokenizer {
  #wasm;
  #handle; // null once disposed
  #scratch; // PIECE_BYTES heap bytes for streamed pieces
  #info;
  #owned; // false: a model's, freed with it
  #model; // the Model it belongs to, kept alive as long as this is (its handle is borrowed)

  // Not for users: loadTokenizer() and Model make these.
  constructor(token, wasm, handle, model) {
    if (token !== CONSTRUCT) throw typeError('Tokenizer', 'there is no public constructor; use await nibble.loadTokenizer(source) or model.tokenizer');
    this.#wasm = wasm;
    this.#handle = handle;
    this.#owned = model === null;
    this.#model = model;
    this.#scratch = wasm._malloc(PIECE_BYTES);
    if (this.#scratch === 0) throw plainError('Tokenizer', 'out of wasm memory');
    this.#info = describeTokenizer(handle.infoJson(), (id) => this.tokenToPiece(id));
    leakGuard?.register(this, { wasm, handle, scratch: this.#scratch }, this);
  }

  // kind, vocabSize, bos, eos ... chatTemplate: read-only, from the
  // vocabulary (index.d.ts says what each is); readable after dispose().
  static {
    for (const key of TOKENIZER_FACTS) {
      Object.defineProperty(this.prototype, key, { get() { return this.#info[key]; }, enumerable: true, configurable: true });
    }
  }

  // True after dispose() (of this tokenizer, or of the model it belongs to).
  get disposed() { return this.#handle === null; }
  get [Symbol.toStringTag]() { return 'Tokenizer'; }

  #live(where) {
    if (this.#handle === null) {
      throw plainError(where, `this Tokenizer was disposed${this.#owned ? '' : ' with its Model'}; use it only before calling dispose()`);
    }
    return this.#handle;
  }

  // Token ids of text. options: addSpecial (true: BOS / EOS as the file
  // says), addBos / addEos (force either), parseSpecial (false: control
  // tokens such as <|im_start|> written in the text become those tokens).
  encode(text, options, where = 'Tokenizer.encode') {
    const handle = this.#live(where);
    if (typeof text !== 'string') throw typeError(where, `text must be a string, got ${describe(text)}`);
    const { addBos, addEos, parseSpecial } = checkTokenizeOptions(options, where);
    withHeapBuffers(this.#wasm, [], where, () => throwIfFailed(handle.tokenize(utf8.encode(text), addBos, addEos, parseSpecial), where));
    return takeResult(this.#wasm, handle, where, (ptr, n) => Array.from(new Int32Array(copyOutBytes(this.#wasm, ptr, n).buffer)));
  }

  // The text of token ids (control tokens such as BOS add nothing).
  decode(ids, where = 'Tokenizer.decode') {
    const handle = this.#live(where);
    const list = checkIds(ids, 'ids', this.vocabSize, where);
    withHeapBuffers(this.#wasm, [Math.max(list.byteLength, 4)], where, ([ptr]) => {
      copyIn(this.#wasm, ptr, list);
      throwIfFailed(handle.detokenize(ptr, list.length), where);
    });
    return takeText(this.#wasm, handle, where);
  }

  // The text of one token on its own; control tokens by their text ('<|im_end|>').
  tokenToPiece(id) {
    const where = 'Tokenizer.tokenToPiece';
    const handle = this.#live(where);
    if (typeof id !== 'number') throw typeError(where, `id must be a number, got ${describe(id)}`);
    if (!Number.isInteger(id)) throw rangeError(where, `id must be an integer, got ${id}`);
    withHeapBuffers(this.#wasm, [], where, () => throwIfFailed(handle.tokenToPiece(id), where));
    return takeText(this.#wasm, handle, where);
  }

  // Whether generating id ends a generation.
  isEndOfGeneration(id) {
    return this.#info.endOfGeneration.includes(id);
  }

  // The text of a conversation in the model's prompt format: its chat
  // template (or options.template) rendered with @huggingface/jinja.
  // Promise<string>: the renderer is loaded on the first call. See index.d.ts.
  async applyChatTemplate(messages, options) {
    const where = 'Tokenizer.applyChatTemplate';
    return (await loadChat(where)).renderChatTemplate(messages, options, templateSpecials(this), where);
  }

  // The bytes `token` adds after `previous` when streaming.
  [PIECE](token, previous, where) {
    const handle = this.#live(where);
    const n = handle.piece(token, previous, this.#scratch, PIECE_BYTES);
    if (n <= PIECE_BYTES) return copyOutBytes(this.#wasm, this.#scratch, n);
    return withHeapBuffers(this.#wasm, [n], where, ([ptr]) => {
      handle.piece(token, previous, ptr, n);
      return copyOutBytes(this.#wasm, ptr, n);
    });
  }

  [RELEASE]() {
    if (this.#handle === null) return;
    leakGuard?.unregister(this);
    this.#handle.delete();
    this.#handle = null;
    this.#wasm._free(this.#scratch);
    this.#scratch = 0;
  }

  // Frees the wasm memory of a tokenizer from loadTokenizer(); a model's
  // tokenizer is freed by model.dispose() (calling this on it does nothing).
  dispose() {
    if (this.#owned) this[RELEASE]();
  }
}

// What a chat template gets from a tokenizer (or a WorkerTokenizer).
export function templateSpecials(tokenizer) {
  return { template: tokenizer.chatTemplate, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken };
}

// A model's tokenizer, borrowing the model's TextModel handle: the model
// frees the tokenizer first, and the tokenizer keeps the model reachable.
export function modelTokenizer(wasm, modelHandle, model) {
  return new Tokenizer(CONSTRUCT, wasm, new wasm.TextTokenizer(modelHandle), model);
}

// Chunks gathered until the header parses: a growing byte array.
class Gathered {
  parts = [];
  length = 0;
  push(chunk) {
    this.parts.push(chunk.slice()); // chunks may be reused buffers
    this.length += chunk.byteLength;
  }
  bytes() {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.byteLength;
    }
    this.parts = [out];
    return out;
  }
}

// Loads the tokenizer of a GGUF file (a URL, a path in Node, bytes, a Blob):
// only the header is read, so a vocab-only file works and a model's tensors
// are not downloaded. options: { signal }.
export async function loadTokenizer(source, options) {
  const where = 'loadTokenizer';
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw typeError(where, `options must be an object, got ${describe(options)}`);
  }
  const { signal, ...rest } = options ?? {};
  if (Object.keys(rest).length > 0) throw typeError(where, `unknown option '${Object.keys(rest)[0]}'; the options are 'signal'`);
  checkSource(source, 'tokenizer', where);
  throwIfAborted(signal, where);
  const wasm = currentModule() ?? await getModule();
  const opened = await openSource(source, { name: 'tokenizer', where, platform: currentPlatform(), signal });
  const handle = new wasm.TextTokenizer();
  try {
    const gathered = new Gathered();
    let tryAt = FIRST_HEADER_TRY;
    let ended = false;
    const chunks = opened.chunks;
    for (;;) {
      while (!ended && gathered.length < tryAt) {
        throwIfAborted(signal, where);
        const next = await chunks.next();
        if (next.done) ended = true;
        else gathered.push(next.value);
      }
      if (gathered.length === 0) throw plainError(where, `the tokenizer file is empty (${opened.label})`);
      const bytes = gathered.bytes();
      const size = ended ? bytes.byteLength : opened.size ?? Number.MAX_SAFE_INTEGER;
      const status = withHeapBuffers(wasm, [bytes.byteLength], where, ([ptr]) => {
        copyIn(wasm, ptr, bytes);
        return handle.loadGguf(ptr, bytes.byteLength, size);
      });
      if (status.kind === 0) break;
      if (!handle.needsMore() || ended) {
        status.message += ` (${opened.label})`;
        throwIfFailed(status, where);
      }
      tryAt = bytes.byteLength * 2;
    }
    return new Tokenizer(CONSTRUCT, wasm, handle, null);
  } catch (e) {
    handle.delete();
    throw e;
  } finally {
    await opened.close(); // the tensors that follow the header are never read
  }
}
