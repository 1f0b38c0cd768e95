// The kernel's own log lines go straight to file descriptor 2: process.stderr is the cells' stderr.
import { writeSync } from 'node:fs';

export const log = (line: string): void => {
  writeSync(2, `[tsprof] ${line}\n`);
};
