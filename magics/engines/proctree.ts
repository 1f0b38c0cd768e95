// The memory of a process tree, read from /proc: each process's resident set size, its parent and
// its command line. What `tsprof mprof run` records over time (mprof's --include-children and
// --multiprocess), independent of what the processes run.
import { readFileSync } from 'node:fs';
import { descendants, procStatus } from './v8/memory.js';

export interface ProcessMemory {
  pid: number;
  ppid: number;
  /** Resident set size, bytes. */
  rss: number;
}

/** The parent pid from /proc/PID/stat (the field after the parenthesised command name). */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The command line of a process, as ps shows it; undefined once it has exited. */
export function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

/** The root and every descendant still alive, root first, with their RSS now. */
export function processTree(root: number): ProcessMemory[] {
  const out: ProcessMemory[] = [];
  for (const pid of [root, ...descendants(root)]) {
    const s = procStatus(pid);
    const ppid = parentOf(pid);
    if (s && ppid !== undefined) out.push({ pid, ppid, rss: s.rss });
  }
  return out;
}
