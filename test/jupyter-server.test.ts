// A real Jupyter Server (Debian's python3-jupyter-server) as the judge, driven through JupyterLab's own
// client library, @jupyterlab/services, the way JupyterLab drives it: REST for kernelspecs, sessions,
// interrupt and restart; the kernel websocket for messages. The server listens on 127.0.0.1 only and
// is stopped by its pid at the end, with every kernel it started.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  KernelManager, KernelSpecManager, ServerConnection, SessionManager,
  type Kernel, type KernelMessage, type Session,
} from '@jupyterlab/services';
import WebSocket from 'ws';
import {
  PYTHON, PYTHON_FLAGS, freePort, killTree, makeJupyterEnv, processesUsing, sleep, withTimeout, type JupyterEnv,
} from './helpers/jupyter-env.js';

let jenv: JupyterEnv;
let server: ChildProcess | undefined;
let serverLog = '';
let settings: ServerConnection.ISettings;
let kernelManager: KernelManager | undefined;
let sessionManager: SessionManager | undefined;
let specManager: KernelSpecManager | undefined;
let session: Session.ISessionConnection | undefined;
const timings: Record<string, number> = {};

const log = (): string => `\n--- jupyter server log ---\n${serverLog.split('\n').slice(-60).join('\n')}`;

before(async () => {
  jenv = makeJupyterEnv('server');
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const args = [
    ...PYTHON_FLAGS, '-m', 'jupyter_server',
    '--ServerApp.ip=127.0.0.1', `--ServerApp.port=${port}`, '--ServerApp.port_retries=0',
    `--ServerApp.token=${token}`, '--ServerApp.open_browser=False', '--no-browser',
    // the API client below authenticates with the token; it has no XSRF cookie to send
    '--ServerApp.disable_check_xsrf=True',
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
  ];
  const t0 = performance.now();
  // cwd is the server's root directory (a temp dir): notebooks and kernels start there
  server = spawn(PYTHON, args, { cwd: jenv.work, env: jenv.env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d: Buffer) => (serverLog += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}/`;
  // Wait for the REST API to answer (bounded), or for the server to die.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`jupyter server exited (${server.exitCode ?? server.signalCode})${log()}`);
    if (Date.now() > deadline) throw new Error(`jupyter server did not answer on ${baseUrl} in 30 s${log()}`);
    try {
      const res = await fetch(`${baseUrl}api/status`, { headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  timings.serverStartMs = performance.now() - t0;
  settings = ServerConnection.makeSettings({ baseUrl, wsUrl: `ws://127.0.0.1:${port}/`, token, appendToken: true, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, fetch });
});

after(async () => {
  try {
    if (session && !session.isDisposed) await withTimeout(session.shutdown(), 10_000, 'session shutdown').catch(() => undefined);
  } finally {
    for (const manager of [sessionManager, kernelManager, specManager]) if (manager) await disposeManager(manager);
    await stopServer();
    jenv?.cleanup();
    if (Object.keys(timings).length) console.log(`# jupyter-server timings (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  }
});

/**
 * Dispose a manager and stop its polls first: @lumino/polling's Poll.dispose() leaves its next tick's
 * timer armed (harmless in a browser tab), which would keep this test process alive for up to 61 s.
 */
async function disposeManager(manager: { dispose(): void }): Promise<void> {
  type Stoppable = { stop(): Promise<void> };
  const polls = (Object.values(manager) as unknown[]).filter((v): v is Stoppable =>
    typeof v === 'object' && v !== null && v.constructor?.name === 'Poll' && typeof (v as Partial<Stoppable>).stop === 'function');
  await Promise.all(polls.map((p) => p.stop().catch(() => undefined)));
  manager.dispose();
}

/** SIGTERM (the server shuts its kernels down), then SIGKILL by pid after 10 s; then any kernel left behind. */
async function stopServer(): Promise<void> {
  const s = server;
  if (!s || s.pid === undefined) return;
  if (s.exitCode === null && s.signalCode === null) {
    const gone = new Promise((r) => s.once('exit', r));
    s.kill('SIGTERM');
    await withTimeout(gone, 10_000, 'server exit after SIGTERM').catch(() => undefined);
    if (s.exitCode === null && s.signalCode === null) {
      console.log('# jupyter server ignored SIGTERM for 10 s; killing it');
      killTree(s.pid);
      await withTimeout(gone, 5_000, 'server exit after SIGKILL').catch(() => undefined);
    }
  }
  // Kernels started by the server have their connection files in our runtime dir.
  for (let i = 0; i < 20 && processesUsing(jenv.dir).length; i++) await sleep(100);
  const leftovers = processesUsing(jenv.dir);
  if (leftovers.length) {
    console.log(`# killing kernels the server left running: ${leftovers.join(', ')}`);
    for (const pid of leftovers) killTree(pid);
  }
}

interface Run {
  reply: KernelMessage.IExecuteReplyMsg;
  iopub: KernelMessage.IIOPubMessage[];
}

/** requestExecute, collecting iopub through the future's onIOPub as JupyterLab's output area does. */
async function execute(kernel: Kernel.IKernelConnection, code: string, ms = 15_000, onMessage?: (m: KernelMessage.IIOPubMessage) => void): Promise<Run> {
  const future = kernel.requestExecute({ code, stop_on_error: true });
  const iopub: KernelMessage.IIOPubMessage[] = [];
  future.onIOPub = (m) => {
    iopub.push(m);
    onMessage?.(m);
  };
  const reply = (await withTimeout(future.done, ms, `execute ${JSON.stringify(code)}`)) as KernelMessage.IExecuteReplyMsg;
  return { reply, iopub };
}

const ofType = <T extends KernelMessage.IIOPubMessage>(run: Run, type: string): T[] => run.iopub.filter((m) => m.header.msg_type === type) as T[];
const resultText = (run: Run): string[] => ofType<KernelMessage.IExecuteResultMsg>(run, 'execute_result').map((m) => String(m.content.data['text/plain']));
const stdout = (run: Run): string => ofType<KernelMessage.IStreamMsg>(run, 'stream').filter((m) => m.content.name === 'stdout').map((m) => m.content.text).join('');

test('the server lists the tsprof kernelspec', async () => {
  specManager = new KernelSpecManager({ serverSettings: settings });
  await withTimeout(specManager.ready, 10_000, 'kernelspecs');
  const spec = specManager.specs?.kernelspecs.tsprof;
  assert.ok(spec, `tsprof is not among ${Object.keys(specManager.specs?.kernelspecs ?? {})}${log()}`);
  assert.equal(spec.language, 'typescript');
  assert.equal(spec.display_name, 'TypeScript (tsprof)');
  // the services model drops interrupt_mode; the server's REST answer has it, and the server acts on it
  const res = await fetch(`${settings.baseUrl}api/kernelspecs`, { headers: { Authorization: `token ${settings.token}` }, signal: AbortSignal.timeout(5000) });
  const raw = (await res.json()) as { kernelspecs: Record<string, { spec: { interrupt_mode?: string; argv: string[] } }> };
  assert.equal(raw.kernelspecs.tsprof?.spec.interrupt_mode, 'message');
  assert.deepEqual(raw.kernelspecs.tsprof?.spec.argv.slice(-2), ['kernel', '{connection_file}']);
});

test('JupyterLab-style notebook session starts a tsprof kernel', async () => {
  kernelManager = new KernelManager({ serverSettings: settings });
  sessionManager = new SessionManager({ kernelManager, serverSettings: settings });
  await withTimeout(sessionManager.ready, 10_000, 'session manager ready');
  const t0 = performance.now();
  session = await withTimeout(
    sessionManager.startNew({ path: 'Untitled.ipynb', name: 'Untitled.ipynb', type: 'notebook', kernel: { name: 'tsprof' } }),
    30_000, 'start a session with the tsprof kernel',
  );
  const kernel = session.kernel;
  assert.ok(kernel, 'the session has no kernel');
  assert.equal(kernel.name, 'tsprof');
  const info = await withTimeout(kernel.info, 30_000, 'kernel_info over the websocket');
  timings.kernelStartMs = performance.now() - t0;
  assert.equal(info.language_info.name, 'typescript');
  assert.equal(info.language_info.file_extension, '.ts');
  assert.equal(info.implementation, 'tsprof');
  assert.equal(kernel.connectionStatus, 'connected');
  const running = [...kernelManager.running()].map((k) => k.name);
  await withTimeout(kernelManager.refreshRunning(), 10_000, 'refresh running kernels');
  assert.ok([...kernelManager.running()].some((k) => k.id === kernel.id), `kernel ${kernel.id} not among running kernels ${running}`);
});

test('execute: a stream on stdout and an execute_result arrive through onIOPub', async () => {
  const kernel = session!.kernel!;
  const t0 = performance.now();
  const run = await execute(kernel, 'let kept: number = 41\nconsole.log("hello from tsprof")\nkept + 1');
  timings.executeMs = performance.now() - t0;
  assert.equal(run.reply.content.status, 'ok', JSON.stringify(run.reply.content));
  assert.equal(run.reply.content.execution_count, 1);
  assert.equal(stdout(run), 'hello from tsprof\n', JSON.stringify(run.iopub.map((m) => m.content)));
  assert.deepEqual(resultText(run), ['42']);
  const result = ofType<KernelMessage.IExecuteResultMsg>(run, 'execute_result')[0];
  assert.equal(result.content.execution_count, 1);
  const input = ofType<KernelMessage.IExecuteInputMsg>(run, 'execute_input');
  assert.equal(input.length, 1);
  assert.equal(input[0].content.execution_count, 1);
  // every iopub message of the request is a child of it, with busy first and idle last
  for (const m of run.iopub) assert.equal((m.parent_header as KernelMessage.IHeader).msg_id, run.reply.parent_header.msg_id);
  const states = ofType<KernelMessage.IStatusMsg>(run, 'status').map((m) => m.content.execution_state);
  assert.deepEqual(states, ['busy', 'idle']);
  assert.equal(run.iopub[0].header.msg_type, 'status');

  // rich output: display_data, and update_display_data through a display id
  const rich = await execute(kernel, "const h = display.html('<b>one</b>', { displayId: 'd1' })\nh.update({ [display.mimebundle]: () => ({ 'text/html': '<b>two</b>' }) })\nundefined");
  assert.equal(rich.reply.content.status, 'ok', JSON.stringify(rich.reply.content));
  const shown = ofType<KernelMessage.IDisplayDataMsg>(rich, 'display_data');
  const updated = ofType<KernelMessage.IUpdateDisplayDataMsg>(rich, 'update_display_data');
  assert.equal(shown.length, 1);
  assert.equal(shown[0].content.data['text/html'], '<b>one</b>');
  assert.equal(shown[0].content.transient?.display_id, 'd1');
  assert.equal(updated.length, 1);
  assert.equal(updated[0].content.data['text/html'], '<b>two</b>');
  assert.equal(updated[0].content.transient?.display_id, 'd1');
});

test('interrupt (interrupt_mode "message", via the REST API) stops while (true) {} and keeps state', async () => {
  const kernel = session!.kernel!;
  let started: () => void;
  const running = new Promise<void>((r) => (started = r));
  const pending = execute(kernel, 'while (true) {}', 20_000, (m) => {
    if (m.header.msg_type === 'execute_input') started();
  });
  await withTimeout(running, 10_000, 'the spinning cell to start');
  await sleep(300);
  const t0 = performance.now();
  await withTimeout(kernel.interrupt(), 10_000, 'POST interrupt');
  const run = await pending;
  timings.interruptMs = performance.now() - t0;
  assert.equal(run.reply.content.status, 'error', JSON.stringify(run.reply.content));
  const errors = ofType<KernelMessage.IErrorMsg>(run, 'error');
  assert.equal(errors.length, 1, JSON.stringify(run.iopub.map((m) => [m.header.msg_type, m.content])));
  assert.equal(errors[0].content.ename, 'KeyboardInterrupt');
  assert.equal((run.reply.content as KernelMessage.IReplyErrorContent).ename, 'KeyboardInterrupt');
  assert.ok(timings.interruptMs < 2000, `interrupt took ${Math.round(timings.interruptMs)} ms`);

  const after = await execute(kernel, 'kept');
  assert.equal(after.reply.content.status, 'ok', JSON.stringify(after.reply.content));
  assert.deepEqual(resultText(after), ['41']);

  // a cell waiting on a promise that never settles is released the same way
  const waiting = execute(kernel, 'kept = 42\nawait new Promise(() => {})', 20_000);
  await sleep(300);
  const t1 = performance.now();
  await withTimeout(kernel.interrupt(), 10_000, 'POST interrupt');
  const awaited = await waiting;
  timings.interruptAwaitMs = performance.now() - t1;
  assert.equal(awaited.reply.content.status, 'error', JSON.stringify(awaited.reply.content));
  assert.equal((awaited.reply.content as KernelMessage.IReplyErrorContent).ename, 'KeyboardInterrupt');
  const kept = await execute(kernel, 'kept');
  assert.deepEqual(resultText(kept), ['42'], 'the assignment before the await was lost');
  await execute(kernel, 'kept = 41');
});

test('restart clears state and resets execution_count', async () => {
  const kernel = session!.kernel!;
  const before = await execute(kernel, 'kept');
  assert.deepEqual(resultText(before), ['41']);
  const pidsBefore = processesUsing(jenv.dir);
  assert.equal(pidsBefore.length, 1, `expected one kernel process, found ${pidsBefore}`);
  const t0 = performance.now();
  await withTimeout(kernel.restart(), 30_000, 'POST restart');
  await withTimeout(kernel.info, 30_000, 'kernel_info after restart');
  timings.restartMs = performance.now() - t0;
  const pidsAfter = processesUsing(jenv.dir);
  assert.equal(pidsAfter.length, 1, `expected one kernel process after the restart, found ${pidsAfter}`);
  assert.notEqual(pidsAfter[0], pidsBefore[0], 'the restart did not start a new kernel process');
  const run = await execute(kernel, 'typeof kept');
  assert.equal(run.reply.content.status, 'ok', JSON.stringify(run.reply.content));
  assert.deepEqual(resultText(run), ["'undefined'"], 'a variable survived the restart');
  assert.equal(run.reply.content.execution_count, 1, 'execution_count was not reset by the restart');
  const again = await execute(kernel, 'const kept: string = "new"\nkept');
  assert.deepEqual(resultText(again), ["'new'"]);
  assert.equal(again.reply.content.execution_count, 2);
});

test('magics through the server: %timeit and %prun bring Vega-Lite, HTML and the profile bundle', async () => {
  const kernel = session!.kernel!;
  const bundles = (run: Run): Array<{ type: string; data: Record<string, unknown>; displayId?: string }> =>
    run.iopub
      .filter((m) => ['display_data', 'update_display_data', 'execute_result'].includes(m.header.msg_type))
      .map((m) => {
        const c = m.content as KernelMessage.IDisplayDataMsg['content'];
        return { type: m.header.msg_type, data: c.data as Record<string, unknown>, displayId: c.transient?.display_id as string | undefined };
      });
  const isVegaLite5 = (spec: unknown): boolean => /vega-lite\/v5/.test(String((spec as { $schema?: string })?.$schema));
  const t0 = performance.now();

  // %timeit: the result (text + HTML table) and, in an output of its own so JupyterLab shows it, the chart
  const timeit = await execute(kernel, '%timeit -n 1000 -r 3 Array.from({ length: 100 }, (_, i) => i * 2)', 60_000);
  assert.equal(timeit.reply.content.status, 'ok', JSON.stringify(timeit.reply.content));
  const tb = bundles(timeit);
  const report = tb.filter((b) => 'text/html' in b.data).at(-1);
  assert.ok(report, `no table from %timeit among ${JSON.stringify(tb.map((b) => Object.keys(b.data)))}`);
  assert.match(String(report.data['text/plain']), /per loop \(mean ± std\. dev\. of 3 runs, 1,000 loops each\)/);
  assert.match(String(report.data['text/html']), /<table/);
  const chart = tb.find((b) => 'application/vnd.vegalite.v5+json' in b.data);
  assert.ok(chart && isVegaLite5(chart.data['application/vnd.vegalite.v5+json']), `vegalite v5 spec among ${JSON.stringify(tb.map((b) => Object.keys(b.data)))}`);
  assert.ok(!('text/html' in chart.data), 'the chart is not beside HTML, which JupyterLab would show instead');
  assert.match(String(chart.data['image/svg+xml']), /^<svg/);

  // %prun: the profile bundle beside HTML and text, then the flame graph and top-N charts
  const prun = await execute(kernel, 'function fib(n: number): number { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n%prun fib(32)', 60_000);
  assert.equal(prun.reply.content.status, 'ok', JSON.stringify(prun.reply.content));
  const pb = bundles(prun);
  const profile = pb.find((b) => b.data['application/vnd.tsprof.profile+json']);
  assert.ok(profile, `no profile bundle among ${JSON.stringify(pb.map((b) => Object.keys(b.data)))}`);
  const p = profile.data['application/vnd.tsprof.profile+json'] as { version: number; kind: string; rows: Array<{ label: string }>; flame: { totalMs: number; children: unknown[] } };
  assert.equal(p.version, 1);
  assert.equal(p.kind, 'prun');
  assert.ok(p.rows.some((r) => /\(fib\)$/.test(r.label)), JSON.stringify(p.rows));
  assert.ok(p.flame.children.length > 0 && p.flame.totalMs > 0, 'the flame tree has samples');
  assert.match(String(profile.data['text/html']), /<table/);
  assert.match(String(profile.data['text/plain']), /filename:lineno\(function\)/);
  const charts = pb.filter((b) => isVegaLite5(b.data['application/vnd.vegalite.v5+json']));
  assert.ok(charts.length >= 2, `flame graph and top-N charts: ${charts.length}`);
  for (const c of charts) assert.match(String(c.data['image/svg+xml']), /^<svg/);
  timings.magicsMs = performance.now() - t0;
});

test('shut down: the kernel leaves the server and its process ends', async () => {
  const s = session!;
  const kernelId = s.kernel!.id;
  assert.ok(processesUsing(jenv.dir).length >= 1, 'no kernel process found with a connection file in the runtime dir');
  await withTimeout(s.shutdown(), 15_000, 'session shutdown');
  const res = await fetch(`${settings.baseUrl}api/kernels`, { headers: { Authorization: `token ${settings.token}` }, signal: AbortSignal.timeout(5000) });
  const kernels = (await res.json()) as Array<{ id: string }>;
  assert.ok(!kernels.some((k) => k.id === kernelId), `kernel ${kernelId} still listed: ${JSON.stringify(kernels)}`);
  for (let i = 0; i < 50 && processesUsing(jenv.dir).length; i++) await sleep(100);
  assert.deepEqual(processesUsing(jenv.dir), [], 'the kernel process is still alive 5 s after shutdown');
});
