// The V8 debugger, for line-level magics on functions from files: to read a file's source and to
// recompile one function in place (LiveEdit, `Debugger.setScriptSource`) so that it runs under block
// coverage, keeping its module scope and identity.
//
// Once switched on it stays on. LiveEdit moves a function into a new copy of its script, and only an
// enabled debugger hears of those copies (scriptParsed); measured: after disabling and enabling again,
// a second profile of the same function recompiled the wrong copy and counted nothing.
import { Session } from 'node:inspector';
import { adopt } from '../realm.js';

// Made when this module loads, before any cell runs: Node's Session constructor spreads its
// arguments, which fails once a cell deletes Array.prototype[Symbol.iterator].
const debuggerSession = new Session();
let session: Session | undefined;
const urls = new Map<string, string>();
/** Scripts recompiled with LiveEdit, by the id this session knows them by, most recent last. */
const edited: string[] = [];

function post<T>(method: string, params: object = {}): Promise<T> {
  const s = session!;
  return new Promise((resolve, reject) => s.post(method, params, (err, res) => (err ? reject(err) : resolve(adopt(res) as T))));
}

/** Enable the debugger the first time it is needed; existing scripts are reported on enable. */
export async function ensureDebugger(): Promise<void> {
  if (session) return;
  session = debuggerSession;
  session.connect();
  session.on('Debugger.scriptParsed', (m: { params: { scriptId: string; url: string } }) => void urls.set(m.params.scriptId, m.params.url));
  await post('Debugger.enable');
}

export function scriptUrl(scriptId: string): string | undefined {
  return urls.get(scriptId);
}

/**
 * LiveEdit compiles a changed script as a new script (a new id, the same URL) and moves the
 * functions there: the newest script with a URL is the one whose functions run now.
 */
export function latestScript(url: string): string | undefined {
  return scriptsNewestFirst(url)[0];
}

/** Every known script with this URL, newest first. */
export function scriptsNewestFirst(url: string): string[] {
  return [...urls].filter(([, u]) => u === url).map(([id]) => id).sort((a, b) => Number(b) - Number(a));
}

export async function scriptSource(scriptId: string): Promise<string> {
  return (await post<{ scriptSource: string }>('Debugger.getScriptSource', { scriptId })).scriptSource;
}

/** Replace a script's source; V8 recompiles the functions that changed, in place. */
export async function setScriptSource(scriptId: string, source: string): Promise<void> {
  const r = await post<{ status?: string; exceptionDetails?: { text: string } }>('Debugger.setScriptSource', { scriptId, scriptSource: source });
  if (r.exceptionDetails) throw new Error(r.exceptionDetails.text);
  if (r.status && r.status !== 'Ok') throw new Error(`V8 refused to recompile the script (${r.status})`);
  const i = edited.indexOf(scriptId);
  if (i >= 0) edited.splice(i, 1);
  edited.push(scriptId);
}

/**
 * The scripts LiveEdit recompiled, most recent first. A recompiled script's functions live in a
 * copy with an id of V8's that no session is told of (a function's [[FunctionLocation]] names it),
 * while the debugger serves that copy under the id the script had: a function whose script id is
 * unknown lives in one of these.
 */
export function editedScripts(): string[] {
  return [...edited].reverse();
}
