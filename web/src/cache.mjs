// loadModel(url, { cache: true }): model files kept in the Cache API
// (caches.open('nibble-models'), keyed by the absolute URL), so a reload does
// not download them again.
//
// - First load: the file downloads as usual (progress status 'download'); the
//   bytes the loader reads are written to the cache at the same time. The
//   entry is stored only when the whole file was read, before loadModel
//   resolves; an aborted or failed load stores nothing.
// - Later loads: the file comes from the cache (progress status 'load'), no
//   network request at all.
// - The entry is never revalidated: give a new file a new URL (a version in
//   its name or query), or delete the old one with
//   `(await caches.open('nibble-models')).delete(url)`.
// - Where there is no Cache API (Node, file:// pages, plain http on a host
//   other than localhost) and for non-URL sources, cache: true does nothing.
import { openSource } from './sources.mjs';
import { tagOf } from './validate.mjs';

export const MODEL_CACHE_NAME = 'nibble-models';

let warnedNoCache = false;

// The absolute http(s) URL that `source` names, or null.
async function httpUrlOf(source, platform) {
  const isUrl = typeof source === 'string' ||
    (source !== null && typeof source === 'object' && typeof source.href === 'string' && !/^(Blob|File)$/.test(tagOf(source)));
  if (!isUrl) return null;
  const text = typeof source === 'string' ? source : source.href;
  const hasScheme = /^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(text) && !/^[a-zA-Z]:[\\/]/.test(text);
  if (!hasScheme && (await platform?.node?.())) return null; // a file path in Node
  try {
    const url = new URL(text, globalThis.document?.baseURI ?? globalThis.location?.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null; // openSource explains what is wrong with it
  }
}

async function openCache() {
  if (typeof caches !== 'object' || caches === null) return null;
  try {
    return await caches.open(MODEL_CACHE_NAME);
  } catch {
    return null; // storage disabled (private mode, opaque origin)
  }
}

/**
 * openSource (sources.mjs) with the Cache API in front: same arguments, same
 * result ({ size, status, chunks, close, label }).
 */
export async function openCachedSource(source, io) {
  const url = await httpUrlOf(source, io.platform);
  const cache = url ? await openCache() : null;
  if (!cache) {
    if (url && !warnedNoCache) {
      warnedNoCache = true;
      console.warn(`nibble.${io.where}: cache: true has no effect here, there is no Cache API (it needs a secure context: https or localhost)`);
    }
    return openSource(source, io);
  }
  const hit = await cache.match(url).catch(() => undefined);
  if (hit) {
    // A Blob over the stored body (Chromium keeps it on disk: no copy).
    const opened = await openSource(await hit.blob(), io);
    return { ...opened, label: url };
  }
  return storeWhileReading(await openSource(url, { ...io, freshChunks: true }), cache, url);
}

// Passes the download's chunks through to the loader and into a stream that
// cache.put() writes (the same chunks, not copies: the download gives each a
// buffer of its own, which neither reader changes); close() commits the
// entry if every chunk was read, or discards it.
function storeWhileReading(opened, cache, url) {
  let sink;
  const body = new ReadableStream({ start(controller) { sink = controller; } });
  const headers = { 'Content-Type': 'application/octet-stream' };
  if (opened.size !== null) headers['Content-Length'] = String(opened.size);
  const stored = cache.put(url, new Response(body, { headers }));
  stored.catch(() => {}); // awaited in close(); an early failure must not go unhandled
  let complete = false;
  let failed = false; // the cache stopped taking bytes (quota, say): load on without it
  async function* chunks() {
    for await (const chunk of opened.chunks) {
      if (!failed) {
        try {
          sink.enqueue(chunk);
        } catch {
          failed = true;
        }
      }
      yield chunk;
    }
    complete = true;
  }

  const warn = (why) => console.warn(`nibble: could not store ${url} in the cache '${MODEL_CACHE_NAME}' (${why}); it will be downloaded again next time`);
  let closed = false;
  async function close() {
    if (closed) return;
    closed = true;
    await opened.close();
    if (complete && !failed) {
      sink.close();
      await stored.catch((e) => warn(e.message));
      return;
    }
    try {
      sink.error(new Error('the download did not finish')); // put() rejects: nothing is stored
    } catch { /* already errored */ }
    if (failed) await stored.catch((e) => warn(e.message));
  }
  return { ...opened, chunks: chunks(), close };
}
