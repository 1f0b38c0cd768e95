// Loads the TypeScript compiler for the worker. `require`, not `import`: importing the 9 MB CommonJS
// file from ESM first runs Node's CJS export lexer over it, which measured ~400 ms on top of the
// ~170 ms load. Other modules take types from `import type TS from 'typescript'`.
import { createRequire } from 'node:module';
import type TS from 'typescript';

export const ts: typeof TS = createRequire(import.meta.url)('typescript');
