// The magics tsprof ships, registered once, and their hook into the session.
import type { KernelSession } from '../../kernel/session/session.js';
import type { LanguageService } from '../../kernel/language/index.js';
import { RUNTIME } from '../../kernel/session/transpile.js';
import { userGlobal } from '../engines/host.js';
import { lsmagic, magicHelp } from './lsmagic.js';
import { MagicRegistry } from './registry.js';
import { rewriteMagics } from './rewrite.js';
import { createMagicFunctions } from './runtime.js';
import { time } from './time.js';
import { timeit } from './timeit.js';
import { prun } from './prun.js';
import { lprun } from './lprun.js';
import { mprun } from './mprun.js';
import { memitMagic } from './memit.js';
import { mprofMagic } from './mprof.js';
import { leaks } from './leaks.js';
import { heapsnap, heapdiff } from './heapsnap.js';

export function createRegistry(): MagicRegistry {
  const registry = new MagicRegistry();
  registry.register(timeit, time, prun, lprun, mprun, memitMagic, mprofMagic, leaks, heapsnap, heapdiff, lsmagic(registry), magicHelp(registry));
  return registry;
}

/** Turn magic lines into calls and give the cell runtime the functions they call. */
export function installMagics(session: KernelSession, language: LanguageService): MagicRegistry {
  const registry = createRegistry();
  const functions = createMagicFunctions(
    {
      display: session.display,
      sources: session.sources,
      evaluator: session.evaluator,
      runCode: (code, firstLine) => session.runCode(code, firstLine),
      prepareCode: (code, firstLine) => session.prepareCode(code, firstLine),
      addPayload: (p) => session.addPayload(p),
      inspect: async (expr, detail) => {
        const reply = await language.inspect(expr, expr.length, detail);
        return reply.found ? reply.data : undefined;
      },
    },
    registry,
  );
  Object.assign((userGlobal as unknown as Record<string, object>)[RUNTIME], functions);
  session.addRewriter(rewriteMagics);
  return registry;
}
