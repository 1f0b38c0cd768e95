// Start a tsprof kernel process on free loopback ports and connect a client to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionInfo } from '../wire/connection.js';
import { KernelClient } from './client.js';

/**
 * V8's young generation pinned at 1 MiB semi-spaces. Left adaptive, it grows and shrinks with what
 * ran before, and allocation-heavy statements change speed with it (array push ×1,000: 4.7 µs in a
 * 1 MiB young generation, 7.0 µs in 16 MiB, within one %timeit); pinned, a timing does not depend
 * on the notebook's history. 1 MiB rather than 16: the semi-spaces of every thread (cells, I/O,
 * language service) are touched as cells run, and 16 MiB ones grew the kernel's RSS by 60+ MiB over
 * 3,000 cells; 1 MiB ones stay in cache and were the faster of the two for allocation-heavy code.
 */
export const YOUNG_GENERATION_FLAGS = ['--min-semi-space-size=1', '--max-semi-space-size=1'];

/** Node flags the kernel needs: ESM resolution from the notebook's directory, gc() for the magics, a fixed young generation. */
export const KERNEL_NODE_FLAGS = ['--experimental-import-meta-resolve', '--expose-gc', ...YOUNG_GENERATION_FLAGS];
export const TSPROF_BIN = fileURLToPath(new URL('../../bin/tsprof.js', import.meta.url));

export function kernelArgv(connectionFile: string): string[] {
  return [process.execPath, ...KERNEL_NODE_FLAGS, TSPROF_BIN, 'kernel', connectionFile];
}

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export interface LaunchedKernel {
  client: KernelClient;
  child: ChildProcess;
  connection: ConnectionInfo;
  connectionFile: string;
  /** What the kernel wrote to stderr so far. */
  stderr(): string;
  /** Shut down politely, then kill by pid if needed; removes the connection file. */
  stop(): Promise<void>;
}

export interface LaunchOptions {
  cwd?: string;
  key?: string;
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  /** Pass stderr through to ours as well as recording it. */
  echoStderr?: boolean;
}

export async function launchKernel(options: LaunchOptions = {}): Promise<LaunchedKernel> {
  const [shell_port, control_port, stdin_port, iopub_port, hb_port] = await freePorts(5);
  const connection: ConnectionInfo = {
    transport: 'tcp', ip: '127.0.0.1', shell_port, control_port, stdin_port, iopub_port, hb_port,
    key: options.key ?? randomBytes(16).toString('hex'), signature_scheme: 'hmac-sha256', kernel_name: 'tsprof',
  };
  const dir = mkdtempSync(join(tmpdir(), 'tsprof-'));
  const connectionFile = join(dir, 'kernel.json');
  writeFileSync(connectionFile, JSON.stringify(connection));
  const [cmd, ...argv] = kernelArgv(connectionFile);
  const child = spawn(cmd, argv, { cwd: options.cwd ?? process.cwd(), env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (options.echoStderr) process.stderr.write(d);
  });
  child.stdout!.resume();
  const client = new KernelClient(connection);
  await client.connect();
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`kernel exited (code ${code}, signal ${signal}) before it was ready:\n${stderr}`))));
  exited.catch(() => undefined);
  try {
    await Promise.race([client.waitForReady(options.readyTimeoutMs ?? 30_000), exited]);
  } catch (e) {
    client.close();
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  return {
    client, child, connection, connectionFile,
    stderr: () => stderr,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        try {
          await client.request('control', 'shutdown_request', { restart: false }, 3000);
        } catch {
          /* fall through to kill */
        }
        await Promise.race([gone, new Promise((r) => setTimeout(r, 3000).unref())]);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await gone;
        }
      }
      client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
