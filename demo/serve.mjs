// Serves the demo on 127.0.0.1, cross-origin isolated (COOP/COEP headers, so
// the threaded wasm build can run), with:
//   /          demo/ (this folder)
//   /nibble/   dist/   (the JS API, its worker and the .wasm files)
//   /models/   models/ (the bundled model)
//
//   node demo/serve.mjs [--port 8080] [--dist <folder>] [--no-coi]
// (npm run demo builds what is stale first, then runs this.)
//   import { startDemoServer } from './demo/serve.mjs'; // { url, close }
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../tests/browser/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');

export function startDemoServer({ port = 0, dist = join(repo, 'dist'), models = join(repo, 'models'), crossOriginIsolated = true, log = false } = {}) {
  return startServer({
    root: here,
    mounts: { '/nibble/': resolve(dist), '/models/': resolve(models) },
    crossOriginIsolated,
    port,
    log,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = { port: 8080, crossOriginIsolated: true };
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') options.port = Number(args[++i]);
    else if (args[i] === '--dist') options.dist = args[++i];
    else if (args[i] === '--no-coi') options.crossOriginIsolated = false;
    else {
      console.error('usage: node demo/serve.mjs [--port 8080] [--dist <folder>] [--no-coi]');
      process.exit(2);
    }
  }
  // A busy port: try the next few.
  let server;
  for (let attempt = 0; !server; attempt++) {
    try {
      server = await startDemoServer({ ...options, port: options.port === 0 ? 0 : options.port + attempt });
    } catch (e) {
      if (e.code !== 'EADDRINUSE' || attempt >= 20) throw e;
    }
  }
  console.log(`nibble demo: ${server.url}  (Ctrl+C stops; cross-origin isolated: ${options.crossOriginIsolated ? 'yes' : 'no'})`);
}
