// Where model bytes come from: a URL (fetch, streamed), a file path or file:
// URL (Node: read in slices), an ArrayBuffer / typed array, or a Blob / File
// (blob.stream()). openSource() turns each into the same shape, so the loader
// can feed the wasm heap chunk by chunk and never needs the whole file there.
import { plainError, typeError } from './errors.mjs';
import { checkSource, tagOf } from './validate.mjs';

// Bytes read per slice from a file on disk, and at most per read of a byte
// stream (a fetch body, Blob.stream()) read into a buffer of our own.
const FILE_SLICE = 1 << 20;
// Buffers a byte stream is read ahead into (readStream).
const READ_AHEAD = 8;

// The error an aborted signal stands for: its reason (what fetch() throws
// too), or a DOMException named AbortError.
export function abortError(signal, where) {
  if (signal?.reason !== undefined) return signal.reason;
  const message = `nibble.${where}: aborted`;
  if (typeof DOMException === 'function') return new DOMException(message, 'AbortError');
  return Object.assign(new Error(message), { name: 'AbortError' });
}

export function throwIfAborted(signal, where) {
  if (signal?.aborted) throw abortError(signal, where);
}

function hasScheme(text) {
  return /^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(text) && !/^[a-zA-Z]:[\\/]/.test(text);
}

// { chunks, close } over a ReadableStream: close() (safe to repeat) cancels
// the stream if it was not read to the end. A byte stream is read into
// buffers of our own, handed back and forth ("BYOB"), not a new buffer per
// chunk: each new buffer is fresh memory the engine zeroes and the OS maps
// in, page by page, which for a large model costs about as much as the
// download. It is read ahead into up to READ_AHEAD of them, whenever the
// thread is between tasks: a download is not held up while the loader packs
// the chunk before (the body's pipe fills, and the browser's network service
// then stops reading until the page reads again).
// freshChunks: a new buffer per chunk after all, for a reader that keeps the
// chunks (the model cache): what it would otherwise copy each chunk into.
function readStream(stream, freshChunks = false) {
  let reader = null;
  if (!freshChunks) {
    try {
      reader = stream.getReader({ mode: 'byob' });
    } catch {
      // not a byte stream, or no BYOB readers in this engine
    }
  }
  const byob = reader !== null;
  reader ??= stream.getReader();
  let done = false;
  async function* fresh() {
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      yield next.value;
    }
  }
  const chunks = async function* () {
    yield* byob ? readAhead(reader) : fresh();
    done = true;
  };
  const close = async () => {
    if (done) return;
    done = true;
    await reader.cancel().catch(() => {});
  };
  return { chunks: chunks(), close };
}

// The chunks of a BYOB reader, read ahead into a pool of buffers: a chunk's
// buffer is read into again once the next chunk is asked for.
async function* readAhead(reader) {
  const free = Array.from({ length: READ_AHEAD }, () => new ArrayBuffer(FILE_SLICE));
  const filled = [];
  let ended = false, failed = null, reading = false, wake = null;
  const woken = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const readWhileFree = async () => {
    reading = true;
    try {
      while (free.length && !ended) {
        const next = await reader.read(new Uint8Array(free.pop()));
        if (next.done) ended = true;
        else filled.push(next.value);
        woken();
      }
    } catch (e) {
      failed = e;
      ended = true;
      woken();
    }
    reading = false;
  };
  for (let previous = null; ; ) {
    if (previous) free.push(previous.buffer); // the caller is done with it
    if (!reading) readWhileFree();
    while (!filled.length && !ended) await new Promise((resolve) => { wake = resolve; });
    if (!filled.length) {
      if (failed) throw failed;
      return;
    }
    previous = filled.shift();
    yield previous;
  }
}

async function openFile(node, path, name, where) {
  let handle, size;
  try {
    handle = await node.open(path, 'r');
    const stat = await handle.stat();
    if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    size = stat.size;
  } catch (e) {
    await handle?.close();
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a folder, not a file' : (e.code ?? e.message);
    throw plainError(where, `cannot read the ${name} '${path}': ${why}`);
  }
  async function* chunks() {
    const buffer = new Uint8Array(Math.max(1, Math.min(FILE_SLICE, size)));
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - at), at);
      if (bytesRead === 0) return; // the file shrank: the loader reports it
      at += bytesRead;
      yield buffer.subarray(0, bytesRead); // reused: consumed before the next read
    }
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return { size, status: 'load', chunks: chunks(), close, label: path };
}

async function openUrl(url, name, where, signal, freshChunks) {
  if (typeof fetch !== 'function') throw plainError(where, `no fetch() here to download the ${name} from ${url}`);
  let response;
  try {
    response = await fetch(url, { signal, credentials: 'same-origin' });
  } catch (e) {
    if (signal?.aborted) throw abortError(signal, where);
    throw plainError(where, `could not fetch the ${name} from ${url} (${e.message})`);
  }
  if (!response.ok) throw plainError(where, `could not fetch the ${name} from ${url}: HTTP ${response.status}`);
  // Content-Length is the size on the wire: with a Content-Encoding it is not
  // the file's size, which then is only known at the end.
  const length = response.headers.get('Content-Length');
  const encoded = (response.headers.get('Content-Encoding') ?? 'identity') !== 'identity';
  const size = length !== null && !encoded && /^\d+$/.test(length) ? Number(length) : null;
  const body = response.body ? readStream(response.body, freshChunks) : {
    chunks: (async function* whole() {
      yield new Uint8Array(await response.arrayBuffer());
    })(),
    close: async () => {},
  };
  // A connection that breaks off mid-way: say so, naming the URL.
  async function* chunks() {
    try {
      yield* body.chunks;
    } catch (e) {
      if (signal?.aborted) throw abortError(signal, where);
      throw plainError(where, `the download of the ${name} from ${url} failed (${e.message})`);
    }
  }
  return { size, status: 'download', chunks: chunks(), close: body.close, label: url };
}

// -> { size (bytes, or null when unknown until the end), status ('download'
// or 'load'), chunks (async iterator of Uint8Array, each valid until the
// next is asked for), close() (call when done, also after an error), label }.
// freshChunks (URLs only): each chunk a buffer of its own, never reused, so
// that it may be kept.
export async function openSource(source, { name, where, platform, signal, freshChunks = false }) {
  const { bytes, blob, text } = checkSource(source, name, where);
  if (bytes) {
    const chunks = (async function* one() {
      yield bytes;
    })();
    return { size: bytes.byteLength, status: 'load', label: `a ${tagOf(source)}`, chunks, close: async () => {} };
  }
  if (blob) {
    return { size: blob.size, status: 'load', label: blob.name || 'a Blob', ...readStream(blob.stream()) };
  }
  const node = await platform.node();
  if (node && (!hasScheme(text) || text.startsWith('file:'))) {
    const path = text.startsWith('file:') ? node.fileURLToPath(text) : text;
    return openFile(node, path, name, where);
  }
  const base = globalThis.document?.baseURI ?? globalThis.location?.href;
  let url;
  try {
    url = new URL(text, base).href;
  } catch {
    throw typeError(where, `the ${name} '${text}' is not a URL${node ? ' or a file path' : ''}`);
  }
  return openUrl(url, name, where, signal, freshChunks);
}

// The whole of a (small) source, e.g. a tokenizer file, as one Uint8Array.
export async function readAll(source, options) {
  const opened = await openSource(source, options);
  const parts = [];
  let total = 0;
  try {
    for await (const chunk of opened.chunks) {
      throwIfAborted(options.signal, options.where);
      parts.push(chunk.slice()); // chunks may be reused buffers
      total += chunk.byteLength;
    }
  } finally {
    await opened.close();
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
