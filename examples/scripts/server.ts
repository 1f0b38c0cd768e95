// An HTTP service that leaks: every page it renders is kept in a cache under a key that is new for
// every request. Optionally a cluster of workers sharing the port.
//   node server.ts [--cluster N] [--fixed]       prints "listening on http://127.0.0.1:PORT"
//   tsprof mprof run -M server.ts --cluster 2    then load it (load.ts), then Ctrl-C
// handle() is marked for mprof: each request is one FUNC line, in the worker that served it.
// SIGINT/SIGTERM close the server and end the process; a primary ends its workers first.
import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1] ?? '';
};
const workers = Number(option('--cluster') ?? 0);
const leaky = !process.argv.includes('--fixed');

/** A page of about 70 KB: 2,000 table rows. */
function renderPage(path: string): string {
  const rows = Array.from({ length: 2_000 }, (_, i) => `<tr><td>${i}</td><td>${path}</td></tr>`);
  return `<table>${rows.join('')}</table>`;
}

const pages = new Map<string, string>();

// @tsprof-profile
function handle(req: IncomingMessage, res: ServerResponse): void {
  const page = renderPage(req.url ?? '/');
  if (leaky) pages.set(`${req.url}#${process.hrtime.bigint()}`, page);
  res.setHeader('content-type', 'text/html');
  res.end(page);
}

function serve(): void {
  const server = createServer(handle);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    if (cluster.isWorker) process.send?.({ listening: port });
    else console.log(`listening on http://127.0.0.1:${port}`);
  });
  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (workers > 0 && cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (m: { listening?: number }) => {
      if (m.listening !== undefined && ++listening === workers) console.log(`listening on http://127.0.0.1:${m.listening} (${workers} workers)`);
    });
  }
  // Ctrl-C reaches the workers too; a signal sent to the primary alone is passed on.
  const stop = (signal: NodeJS.Signals): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  cluster.on('exit', () => {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
} else serve();
