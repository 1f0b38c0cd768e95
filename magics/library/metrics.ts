// Watched functions' calls as metrics, over time: Prometheus histograms (prom-client) on an HTTP
// endpoint for a server to scrape, and StatsD timers and histograms over UDP, fire and forget.
import { createServer, type Server } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import { Gauge, Histogram, Registry, exponentialBuckets, collectDefaultMetrics } from 'prom-client';

/** One call of a watched function. */
export interface CallSample {
  name: string;
  seconds: number;
  threw: boolean;
  /** JS memory (heap + external) the call added, bytes; when memory is watched. */
  heapDelta?: number;
  /** JS memory (heap + external) after the call and a full GC, bytes; with leak checks. */
  retained?: number;
}

export interface MetricsSink {
  record(sample: CallSample): void;
}

let sinks: MetricsSink[] = [];

/** The sinks every watched function reports to unless given its own (replaces the previous set). */
export function useMetrics(...use: MetricsSink[]): void {
  sinks = use;
}

export function defaultSinks(): readonly MetricsSink[] {
  return sinks;
}

// ---------------------------------------------------------------------------------------------
// Prometheus

/** Seconds: 10 μs to 10 s. */
const DURATION_BUCKETS = [1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
/** Bytes: 1 KiB to 256 MiB, ×4. */
const HEAP_BUCKETS = exponentialBuckets(1024, 4, 10);

export interface PrometheusOptions {
  /** Where the metrics live (default: a registry of tsprof's own, so the application's is not touched). */
  registry?: Registry;
  /** Metric name prefix (default `tsprof_`). */
  prefix?: string;
  /** Also collect prom-client's default process metrics (CPU, RSS, event loop lag, GC) into the registry. */
  processMetrics?: boolean;
}

export class PrometheusSink implements MetricsSink {
  readonly registry: Registry;
  private readonly duration: Histogram<'function' | 'outcome'>;
  private readonly heap: Histogram<'function'>;
  private readonly retained: Gauge<'function'>;

  constructor(options: PrometheusOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const prefix = options.prefix ?? 'tsprof_';
    const registers = [this.registry];
    this.duration = new Histogram({ name: `${prefix}function_duration_seconds`, help: 'Time per call of a watched function', labelNames: ['function', 'outcome'], buckets: DURATION_BUCKETS, registers });
    this.heap = new Histogram({ name: `${prefix}function_heap_delta_bytes`, help: 'JS memory (heap + external) a call of a watched function added (calls that freed more than they took count as 0)', labelNames: ['function'], buckets: HEAP_BUCKETS, registers });
    this.retained = new Gauge({ name: `${prefix}function_retained_heap_bytes`, help: 'JS memory (heap + external) after the last call of a leak-checked function and a full GC', labelNames: ['function'], registers });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix });
  }

  record(s: CallSample): void {
    this.duration.observe({ function: s.name, outcome: s.threw ? 'error' : 'ok' }, s.seconds);
    if (s.heapDelta !== undefined) this.heap.observe({ function: s.name }, Math.max(0, s.heapDelta));
    if (s.retained !== undefined) this.retained.set({ function: s.name }, s.retained);
  }

  /** The exposition text (what /metrics serves). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

export function prometheus(options: PrometheusOptions = {}): PrometheusSink {
  return new PrometheusSink(options);
}

export interface MetricsServer {
  /** `http://127.0.0.1:PORT/metrics` */
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Serve a registry on `GET /metrics` (default 127.0.0.1 and a free port); the server does not keep the process alive. */
export async function serveMetrics(sink: PrometheusSink, options: { port?: number; host?: string; path?: string } = {}): Promise<MetricsServer> {
  const path = options.path ?? '/metrics';
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== path) {
      res.writeHead(404).end('not found\n');
      return;
    }
    sink.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': sink.registry.contentType }).end(text),
      (e: Error) => res.writeHead(500).end(`${e.message}\n`),
    );
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  server.unref();
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host}:${port}${path}`, port, server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------------------------------------
// StatsD

export interface StatsdOptions {
  host?: string;
  port?: number;
  /** Prepended to every metric name (default `tsprof.`). */
  prefix?: string;
}

/**
 * StatsD over UDP, fire and forget: each call sends `<prefix><name>.duration:<ms>|ms` (and
 * `.heap_delta:<bytes>|h`, `.retained_heap:<bytes>|g`, `.errors:1|c`). A send never waits and
 * its errors are dropped; the socket does not keep the process alive.
 */
export class StatsdSink implements MetricsSink {
  private socket: Socket | undefined;
  private readonly host: string;
  private readonly port: number;
  private readonly prefix: string;
  /** Datagrams handed to the socket. */
  sent = 0;

  constructor(options: StatsdOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 8125;
    this.prefix = options.prefix ?? 'tsprof.';
  }

  private send(line: string): void {
    if (!this.socket) {
      this.socket = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
      this.socket.on('error', () => undefined);
      this.socket.unref();
    }
    this.sent++;
    this.socket.send(line, this.port, this.host, () => undefined);
  }

  record(s: CallSample): void {
    const name = `${this.prefix}${s.name.replace(/[^\w.-]/g, '_')}`;
    const lines = [`${name}.duration:${+(s.seconds * 1e3).toFixed(6)}|ms`];
    if (s.threw) lines.push(`${name}.errors:1|c`);
    if (s.heapDelta !== undefined) lines.push(`${name}.heap_delta:${Math.round(s.heapDelta)}|h`);
    if (s.retained !== undefined) lines.push(`${name}.retained_heap:${Math.round(s.retained)}|g`);
    // One datagram per call: StatsD servers split a packet on newlines.
    this.send(lines.join('\n'));
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}

export function statsd(options: StatsdOptions = {}): StatsdSink {
  return new StatsdSink(options);
}
