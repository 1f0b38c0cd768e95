// mprof's `.dat` file (memory_profiler's `mprof run` writes it, `mprof plot` reads it), with the
// lines tsprof adds for Node: a process's JS heap (HEAP) and what each process is (PROC). mprof's
// own reader skips lines it does not know, so Python's `mprof plot` still reads these files.
//
//   CMDLINE node server.ts
//   MEM <MiB> <unix time>                       the root's RSS (with its children's, if included)
//   CHLD <pid> <MiB> <unix time>                a descendant's RSS (--multiprocess)
//   FUNC <name> <MiB> <start> <MiB> <end> <level> [<pid>]   a call of a marked function
//   HEAP <pid> <used MiB> <total MiB> <unix time>           (tsprof) a Node process's JS heap
//   PROC <pid> <ppid> <node|exe> <command line>             (tsprof) a process first seen

export const MIB = 1024 * 1024;

export interface Mprofile {
  cmdline?: string;
  mem: Array<{ t: number; mib: number }>;
  children: Map<number, Array<{ t: number; mib: number }>>;
  heap: Map<number, Array<{ t: number; used: number; total: number }>>;
  funcs: Array<{ name: string; memStart: number; start: number; memEnd: number; end: number; level: number; pid?: number }>;
  procs: Map<number, { ppid: number; node: boolean; command: string }>;
}

export const memLine = (mib: number, t: number): string => `MEM ${mib.toFixed(6)} ${t.toFixed(4)}\n`;
export const childLine = (pid: number, mib: number, t: number): string => `CHLD ${pid} ${mib.toFixed(6)} ${t.toFixed(4)}\n`;
export const heapLine = (pid: number, used: number, total: number, t: number): string => `HEAP ${pid} ${used.toFixed(6)} ${total.toFixed(6)} ${t.toFixed(4)}\n`;
export const procLine = (pid: number, ppid: number, node: boolean, command: string): string => `PROC ${pid} ${ppid} ${node ? 'node' : 'exe'} ${command.replace(/\n/g, ' ')}\n`;

export function parseMprofile(text: string): Mprofile {
  const p: Mprofile = { mem: [], children: new Map(), heap: new Map(), funcs: [], procs: new Map() };
  for (const line of text.split('\n')) {
    if (!line) continue;
    const space = line.indexOf(' ');
    const field = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    const v = rest.split(' ');
    if (field === 'CMDLINE') p.cmdline = rest;
    else if (field === 'MEM') p.mem.push({ mib: Number(v[0]), t: Number(v[1]) });
    else if (field === 'CHLD') {
      const pid = Number(v[0]);
      if (!p.children.has(pid)) p.children.set(pid, []);
      p.children.get(pid)!.push({ mib: Number(v[1]), t: Number(v[2]) });
    } else if (field === 'HEAP') {
      const pid = Number(v[0]);
      if (!p.heap.has(pid)) p.heap.set(pid, []);
      p.heap.get(pid)!.push({ used: Number(v[1]), total: Number(v[2]), t: Number(v[3]) });
    } else if (field === 'FUNC') {
      p.funcs.push({ name: v[0], memStart: Number(v[1]), start: Number(v[2]), memEnd: Number(v[3]), end: Number(v[4]), level: v[5] === undefined ? 1 : Number(v[5]), pid: v[6] === undefined ? undefined : Number(v[6]) });
    } else if (field === 'PROC') {
      p.procs.set(Number(v[0]), { ppid: Number(v[1]), node: v[2] === 'node', command: v.slice(3).join(' ') });
    }
  }
  return p;
}

/** mprof's default file name: `mprofile_<YYYYMMDDhhmmss>.dat`, local time of the start. */
export function defaultMprofileName(d = new Date()): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `mprofile_${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}.dat`;
}

/** mprof's pattern for the files `list`, `clean` and `plot` (without a file) look at. */
export const MPROFILE_PATTERN = /^mprofile_\d{14}\.dat$/;
