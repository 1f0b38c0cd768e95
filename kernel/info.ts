// kernel_info_reply content: who we are and the language cells are written in.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PROTOCOL_VERSION, type KernelInfoReply } from './wire/message.js';

const require = createRequire(import.meta.url);

function packageVersion(pkgJsonPath: string): string {
  try {
    return (JSON.parse(readFileSync(pkgJsonPath, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Read versions from package.json files rather than loading TypeScript (170 ms) at start. */
export function kernelInfo(): KernelInfoReply {
  const tsVersion = packageVersion(require.resolve('typescript/package.json'));
  const version = packageVersion(new URL('../../package.json', import.meta.url).pathname);
  return {
    status: 'ok',
    protocol_version: PROTOCOL_VERSION,
    implementation: 'tsprof',
    implementation_version: version,
    language_info: {
      name: 'typescript',
      version: tsVersion,
      mimetype: 'text/typescript',
      file_extension: '.ts',
      pygments_lexer: 'typescript',
      codemirror_mode: 'text/typescript',
      nbconvert_exporter: 'script',
    },
    banner: `tsprof ${version} — TypeScript ${tsVersion} on Node.js ${process.versions.node}, with profiling magics (%lsmagic)`,
    debugger: false,
    help_links: [
      { text: 'TypeScript handbook', url: 'https://www.typescriptlang.org/docs/handbook/' },
      { text: 'Node.js API', url: 'https://nodejs.org/api/' },
    ],
  };
}
