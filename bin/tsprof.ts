#!/usr/bin/env -S node --experimental-import-meta-resolve --expose-gc --min-semi-space-size=1 --max-semi-space-size=1
// tsprof: `kernel CONNECTION_FILE` (what kernel.json runs), `install`, `run NOTEBOOK`, and the
// command-line profilers (`timeit`, `prun`, `lprun`, `mprun`, `mprof`: magics/cli/).
import { CLI_USAGE, runCli } from '../magics/cli/main.js';

const [command, ...args] = process.argv.slice(2);

// A reader that stops early (`tsprof prun app.js | head`) closes the pipe: stop quietly, as Unix
// tools do on SIGPIPE, instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

const usage = `usage:
  tsprof kernel [-f] CONNECTION_FILE      run the kernel (Jupyter starts this from kernel.json)
  tsprof install [--user | --sys-prefix | --prefix DIR] [--name NAME]
                                          install the kernelspec so Jupyter can start tsprof
  tsprof run NOTEBOOK.ipynb [--out FILE] [--html FILE] [--timeout SECONDS]
                                          execute a notebook through the kernel and print its outputs
  tsprof baseline check BASE.json CURRENT.json [--factor F] | show FILE.json
                                          fail (exit 1, a table) on timing regressions against a baseline
${CLI_USAGE}`;

async function main(): Promise<number> {
  const cli = command === undefined ? undefined : await runCli(command, args);
  if (cli !== undefined) return cli;
  switch (command) {
    case 'kernel': {
      const file = args.filter((a) => a !== '-f' && !a.startsWith('--'))[0];
      if (!file) throw new UsageError('tsprof kernel: missing CONNECTION_FILE');
      const { runKernel } = await import('../kernel/main.js');
      await runKernel(file);
      return -1; // keep running
    }
    case 'install': {
      const { install } = await import('../kernel/cli/install.js');
      return install(args);
    }
    case 'run': {
      const { run } = await import('../kernel/cli/run.js');
      return run(args);
    }
    case 'baseline': {
      const { baselineCommand } = await import('../magics/library/baseline-cli.js');
      return baselineCommand(args);
    }
    case undefined:
    case '-h':
    case '--help':
      console.log(usage);
      return command ? 0 : 2;
    default:
      throw new UsageError(`tsprof: unknown command ${JSON.stringify(command)}`);
  }
}

class UsageError extends Error {}

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e as { name?: string }).name === 'UsageError') {
      console.error(`${(e as Error).message}\n\n${usage}`);
      process.exitCode = 2;
    } else {
      console.error((e as Error)?.stack ?? e);
      process.exitCode = 1;
    }
  },
);
