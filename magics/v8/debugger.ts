// The V8 debugger, switched on only while a line-level magic needs it: to read a file's source
// and to recompile one function in place (LiveEdit, `Debugger.setScriptSource`) so that it runs
// under block coverage or with statement probes, keeping its module scope and identity.
import { Session } from 'node:inspector';

let session: Session | undefined;
let users = 0;
const urls = new Map<string, string>();

function post<T>(method: string, params: object = {}): Promise<T> {
  const s = session!;
  return new Promise((resolve, reject) => s.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))));
}

/** Enable the debugger (counted: the last `release` disables it). Existing scripts are reported on enable. */
export async function acquireDebugger(): Promise<void> {
  if (!session) {
    session = new Session();
    session.connect();
    session.on('Debugger.scriptParsed', (m: { params: { scriptId: string; url: string } }) => void urls.set(m.params.scriptId, m.params.url));
  }
  if (users++ === 0) await post('Debugger.enable');
}

export async function releaseDebugger(): Promise<void> {
  if (--users === 0) await post('Debugger.disable');
}

export function scriptUrl(scriptId: string): string | undefined {
  return urls.get(scriptId);
}

/**
 * LiveEdit compiles a changed script as a new script (a new id, the same URL) and moves the
 * functions there: the newest script with a URL is the one whose functions run now.
 */
export function latestScript(url: string): string | undefined {
  let best: string | undefined;
  for (const [id, u] of urls) if (u === url && (best === undefined || Number(id) > Number(best))) best = id;
  return best;
}

export async function scriptSource(scriptId: string): Promise<string> {
  return (await post<{ scriptSource: string }>('Debugger.getScriptSource', { scriptId })).scriptSource;
}

/** Replace a script's source; V8 recompiles the functions that changed, in place. */
export async function setScriptSource(scriptId: string, source: string): Promise<void> {
  const r = await post<{ status?: string; exceptionDetails?: { text: string } }>('Debugger.setScriptSource', { scriptId, scriptSource: source });
  if (r.exceptionDetails) throw new Error(r.exceptionDetails.text);
  if (r.status && r.status !== 'Ok') throw new Error(`V8 refused to recompile the script (${r.status})`);
}
