// V8 heap snapshots (`.heapsnapshot` JSON) parsed as a stream into typed arrays, and the graph
// work the leak magics need: readable class names, per-class summaries, retainer paths from the
// GC roots (user roots first, weak edges skipped), dominators and retained sizes.
//
// The file is never JSON.parse'd whole: a snapshot of a busy process is tens of MB of text holding
// millions of numbers, and JSON.parse would build a JS array of boxed numbers for them (several
// times the text size, and slow). A byte-level state machine reads the fixed layout V8 writes
// ({"snapshot":{meta…},"nodes":[…],"edges":[…],…,"locations":[…],"strings":[…]}) chunk by chunk
// and stores each node/edge field in its own typed array.
import { closeSync, openSync, readSync } from 'node:fs';

// ---------------------------------------------------------------------------------------------
// Parsing

interface Meta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
  edge_fields: string[];
  edge_types: [string[], ...unknown[]];
  location_fields?: string[];
}

interface Header {
  meta: Meta;
  node_count: number;
  edge_count: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NUMERIC_KEYS = new Set(['nodes', 'edges', 'locations', 'trace_function_infos', 'trace_tree']);

/** Feed `.heapsnapshot` bytes in chunks of any size; `finish()` gives the graph. */
export class SnapshotParser {
  private state: 'header' | 'key' | 'numbers' | 'strings' | 'string' | 'done' = 'header';
  private headerText = '';
  private header?: Header;
  // numbers
  private target = '';
  private depth = 0;
  private acc = 0;
  private inNumber = false;
  private negative = false;
  private count = 0;
  // keys
  private keyText: string | undefined;
  private keyDone = false;
  // strings
  private parts: Buffer[] = [];
  private escaped = false;
  private skipNext = false;
  readonly strings: string[] = [];
  // graph storage
  private NF = 0;
  private EF = 0;
  /** Per field position: 1 type, 2 name, 3 id (nodes) / to_node (edges), 4 self_size, 5 edge_count, 0 skip. */
  private nodeCodes = new Uint8Array(0);
  private edgeCodes = new Uint8Array(0);
  private nodeTypes!: Uint8Array;
  private nodeNames!: Uint32Array;
  private nodeIds!: Uint32Array;
  private selfSizes!: Float64Array;
  private firstEdge!: Uint32Array;
  private edgeTypes!: Uint8Array;
  private edgeNames!: Uint32Array;
  private edgeTo!: Uint32Array;
  private locations = new Int32Array(1024);
  private locationCount = 0;
  // allocation traces (present when the snapshot was taken while tracking allocations)
  private traceNodeIds?: Uint32Array;
  private functionInfos = new Int32Array(0);
  private functionInfoCount = 0;
  private traceParent = new Int32Array(256);
  private traceFunction = new Int32Array(256);
  private traceCounter: number[] = [];
  private traceLastNode: number[] = [];

  write(chunk: Buffer): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      switch (this.state) {
        case 'header': {
          const text = chunk.toString('latin1', pos, n);
          const at = (this.headerText + text).indexOf('"nodes"');
          if (at < 0) {
            this.headerText += text;
            pos = n;
            break;
          }
          // The key's closing quote is in this chunk (else an earlier chunk would have matched).
          const after = at + '"nodes"'.length - this.headerText.length;
          this.headerText = (this.headerText + text).slice(0, at);
          this.startGraph();
          pos += after;
          this.state = 'key';
          this.keyText = 'nodes';
          this.keyDone = true;
          break;
        }
        case 'key':
          pos = this.scanKey(chunk, pos);
          break;
        case 'numbers':
          pos = this.scanNumbers(chunk, pos);
          break;
        case 'strings':
          pos = this.scanStrings(chunk, pos);
          break;
        case 'string':
          pos = this.scanString(chunk, pos);
          break;
        case 'done':
          return;
      }
    }
  }

  private startGraph(): void {
    const text = this.headerText.trim().replace(/,$/, '');
    const parsed = JSON.parse(`${text}}`) as { snapshot: Header };
    const h = parsed.snapshot;
    this.header = h;
    const m = h.meta;
    this.NF = m.node_fields.length;
    this.EF = m.edge_fields.length;
    const nodeMap: Record<string, number> = { type: 1, name: 2, id: 3, self_size: 4, edge_count: 5, trace_node_id: 6 };
    const edgeMap: Record<string, number> = { type: 1, name_or_index: 2, to_node: 3 };
    this.nodeCodes = Uint8Array.from(m.node_fields, (f) => nodeMap[f] ?? 0);
    this.edgeCodes = Uint8Array.from(m.edge_fields, (f) => edgeMap[f] ?? 0);
    const N = h.node_count;
    const E = h.edge_count;
    this.nodeTypes = new Uint8Array(N);
    this.nodeNames = new Uint32Array(N);
    this.nodeIds = new Uint32Array(N);
    this.selfSizes = new Float64Array(N);
    this.firstEdge = new Uint32Array(N + 1);
    this.edgeTypes = new Uint8Array(E);
    this.edgeNames = new Uint32Array(E);
    this.edgeTo = new Uint32Array(E);
    if ((h as { trace_function_count?: number }).trace_function_count) this.traceNodeIds = new Uint32Array(N);
  }

  /** Between arrays: `,"name":[` (or the closing `}`). */
  private scanKey(b: Buffer, pos: number): number {
    const n = b.length;
    while (pos < n) {
      const c = b[pos];
      if (this.keyText === undefined) {
        if (c === QUOTE) this.keyText = '';
        else if (c === 0x7d /* } */) {
          this.state = 'done';
          return n;
        }
        pos++;
      } else if (!this.keyDone) {
        const q = b.indexOf(QUOTE, pos);
        if (q < 0) {
          this.keyText += b.toString('latin1', pos, n);
          return n;
        }
        this.keyText += b.toString('latin1', pos, q);
        this.keyDone = true;
        pos = q + 1;
      } else {
        pos++;
        if (c === 0x5b /* [ */) {
          const key = this.keyText;
          this.keyText = undefined;
          this.keyDone = false;
          if (key === 'strings') this.state = 'strings';
          else {
            this.state = 'numbers';
            this.target = NUMERIC_KEYS.has(key) ? key : '';
            this.depth = 1;
            this.count = 0;
            this.acc = 0;
            this.inNumber = false;
            this.negative = false;
          }
          return pos;
        }
      }
    }
    return pos;
  }

  private scanNumbers(buf: Buffer, pos: number): number {
    const b = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    const n = b.length;
    let acc = this.acc;
    let inNumber = this.inNumber;
    // Hot loop for nodes and edges: the field of each number is its position modulo the record
    // width, so keep the record index and field counter in locals.
    const isNodes = this.target === 'nodes';
    const isEdges = this.target === 'edges';
    const width = isNodes ? this.NF : isEdges ? this.EF : 1;
    const codes = isNodes ? this.nodeCodes : isEdges ? this.edgeCodes : undefined;
    let field = this.count % width;
    let rec = (this.count - field) / width;
    let count = this.count;
    for (; pos < n; pos++) {
      const c = b[pos];
      if (c >= 0x30 && c <= 0x39) {
        acc = acc * 10 + (c - 0x30);
        inNumber = true;
        continue;
      }
      if (c === 0x2d /* - */) {
        this.negative = true;
        continue;
      }
      if (inNumber) {
        const v = this.negative ? -acc : acc;
        if (codes) {
          switch (codes[field]) {
            case 1: (isNodes ? this.nodeTypes : this.edgeTypes)[rec] = v; break;
            case 2: (isNodes ? this.nodeNames : this.edgeNames)[rec] = v; break;
            case 3: if (isNodes) this.nodeIds[rec] = v; else this.edgeTo[rec] = v / this.NF; break;
            case 4: this.selfSizes[rec] = v; break;
            case 5: this.firstEdge[rec + 1] = this.firstEdge[rec] + v; break;
            case 6: if (this.traceNodeIds) this.traceNodeIds[rec] = v; break;
            default: break;
          }
          if (++field === width) {
            field = 0;
            rec++;
          }
        } else if (this.target === 'locations') this.pushLocation(v);
        else if (this.target === 'trace_tree') this.traceNumber(v);
        else if (this.target === 'trace_function_infos') this.pushFunctionInfo(v);
        count++;
        acc = 0;
        inNumber = false;
        this.negative = false;
      }
      if (c === 0x5b) {
        this.depth++;
        this.traceCounter[this.depth] = 0;
      } else if (c === 0x5d /* ] */ && --this.depth === 0) {
        this.acc = 0;
        this.inNumber = false;
        this.count = count;
        this.finishNumbers();
        this.state = 'key';
        return pos + 1;
      }
    }
    this.acc = acc;
    this.inNumber = inNumber;
    this.count = count;
    return pos;
  }

  /** trace_function_infos: [function_id, name, script_name, script_id, line, column] per function. */
  private pushFunctionInfo(v: number): void {
    if (this.functionInfoCount === this.functionInfos.length) {
      const bigger = new Int32Array(Math.max(1024, this.functionInfos.length * 2));
      bigger.set(this.functionInfos);
      this.functionInfos = bigger;
    }
    this.functionInfos[this.functionInfoCount++] = v;
  }

  /**
   * trace_tree: nested `[id, function_info_index, count, size, [children…]]`. A node's four
   * numbers sit at one bracket depth, its children's one deeper, so the parent of a node is the
   * node most recently started one level up.
   */
  private traceNumber(v: number): void {
    const d = this.depth;
    const k = this.traceCounter[d] ?? 0;
    this.traceCounter[d] = k + 1;
    if (k % 4 === 0) {
      this.traceLastNode[d] = v;
      if (v >= this.traceParent.length) {
        let size = this.traceParent.length;
        while (size <= v) size *= 2;
        const p = new Int32Array(size);
        p.set(this.traceParent);
        this.traceParent = p;
        const f = new Int32Array(size);
        f.set(this.traceFunction);
        this.traceFunction = f;
      }
      this.traceParent[v] = d > 1 ? this.traceLastNode[d - 1] ?? 0 : 0;
    } else if (k % 4 === 1) this.traceFunction[this.traceLastNode[d]] = v;
  }

  private pushLocation(v: number): void {
    if (this.locationCount === this.locations.length) {
      const bigger = new Int32Array(this.locations.length * 2);
      bigger.set(this.locations);
      this.locations = bigger;
    }
    this.locations[this.locationCount++] = v;
  }

  private finishNumbers(): void {
    if (this.target === 'nodes' && this.count !== this.header!.node_count * this.NF) {
      throw new Error(`heap snapshot: expected ${this.header!.node_count} nodes, read ${this.count / this.NF}`);
    }
    if (this.target === 'edges' && this.count !== this.header!.edge_count * this.EF) {
      throw new Error(`heap snapshot: expected ${this.header!.edge_count} edges, read ${this.count / this.EF}`);
    }
  }

  /** Inside the strings array, between strings. */
  private scanStrings(b: Buffer, pos: number): number {
    const n = b.length;
    for (; pos < n; pos++) {
      const c = b[pos];
      if (c === QUOTE) {
        this.state = 'string';
        this.parts = [];
        this.escaped = false;
        return pos + 1;
      }
      if (c === 0x5d) {
        this.state = 'key';
        return pos + 1;
      }
    }
    return pos;
  }

  /** Inside one JSON string: find the closing quote, skipping escaped characters. */
  private scanString(b: Buffer, pos: number): number {
    const n = b.length;
    const start = pos;
    if (this.skipNext) {
      this.skipNext = false;
      pos++;
    }
    for (;;) {
      const q = b.indexOf(QUOTE, pos);
      const bs = b.indexOf(BACKSLASH, pos);
      if (bs >= 0 && (q < 0 || bs < q)) {
        this.escaped = true;
        if (bs + 1 >= n) {
          this.skipNext = true;
          this.parts.push(Buffer.from(b.subarray(start, n)));
          return n;
        }
        pos = bs + 2;
        continue;
      }
      if (q < 0) {
        // The reader reuses its buffer: keep a copy.
        this.parts.push(Buffer.from(b.subarray(start, n)));
        return n;
      }
      const last = b.subarray(start, q);
      const bytes = this.parts.length ? Buffer.concat([...this.parts, last]) : last;
      const text = bytes.toString('utf8');
      this.strings.push(this.escaped ? (JSON.parse(`"${text}"`) as string) : text);
      this.parts = [];
      this.state = 'strings';
      return q + 1;
    }
  }

  finish(): HeapSnapshot {
    if (!this.header) throw new Error('heap snapshot: no header');
    if (this.state !== 'done' && this.state !== 'key') throw new Error(`heap snapshot: truncated (${this.state})`);
    const m = this.header.meta;
    const lf = m.location_fields ?? ['object_index', 'script_id', 'line', 'column'];
    return new HeapSnapshot({
      nodeTypeNames: m.node_types[0],
      edgeTypeNames: m.edge_types[0],
      nodeTypes: this.nodeTypes,
      nodeNames: this.nodeNames,
      nodeIds: this.nodeIds,
      selfSizes: this.selfSizes,
      firstEdge: this.firstEdge,
      edgeTypes: this.edgeTypes,
      edgeNames: this.edgeNames,
      edgeTo: this.edgeTo,
      strings: this.strings,
      locations: this.locations.subarray(0, this.locationCount),
      locationFields: lf.length,
      nodeFieldCount: this.NF,
      traces: this.traceNodeIds
        ? { nodeTrace: this.traceNodeIds, parent: this.traceParent, functionOf: this.traceFunction, functionInfos: this.functionInfos.subarray(0, this.functionInfoCount) }
        : undefined,
    });
  }
}

/** Parse a `.heapsnapshot` file, reading it in chunks. */
export function readHeapSnapshot(path: string, chunkSize = 4 << 20): HeapSnapshot {
  const parser = new SnapshotParser();
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(chunkSize);
  try {
    for (;;) {
      const got = readSync(fd, buf, 0, chunkSize, null);
      if (got === 0) break;
      parser.write(buf.subarray(0, got));
    }
  } finally {
    closeSync(fd);
  }
  return parser.finish();
}

// ---------------------------------------------------------------------------------------------
// The graph

export interface SnapshotArrays {
  nodeTypeNames: string[];
  edgeTypeNames: string[];
  nodeTypes: Uint8Array;
  nodeNames: Uint32Array;
  nodeIds: Uint32Array;
  selfSizes: Float64Array;
  firstEdge: Uint32Array;
  edgeTypes: Uint8Array;
  edgeNames: Uint32Array;
  edgeTo: Uint32Array;
  strings: string[];
  locations: Int32Array;
  locationFields: number;
  nodeFieldCount: number;
  /** Allocation stacks, when allocations were tracked: node → trace node → parent / function. */
  traces?: { nodeTrace: Uint32Array; parent: Int32Array; functionOf: Int32Array; functionInfos: Int32Array };
}

/** One frame of an allocation stack (from a snapshot's trace tree). */
export interface TraceFrame {
  name: string;
  url: string;
  /** V8's script id (0 for builtins); lets a caller name scripts the snapshot left unnamed. */
  scriptId?: number;
  /** 1-based line and column of the function's start; 0 when unknown. */
  line: number;
  column: number;
}

/** One readable group of heap objects: a constructor name, `keeper (closure)`, `string`, … */
export interface HeapClass {
  name: string;
  /** V8 machinery (compiled code, hidden classes, internal arrays): not shown unless asked for. */
  internal: boolean;
}

export interface PathStep {
  /** How the previous step holds this one: `cache`, `[3]`, `table`, `captured big` ('' for plumbing). */
  edge: string;
  /**
   * root: a kind of GC root (`Stack roots`); global: the global object; scope: a top-level
   * let/const/class of a cell or module (a script-scope variable); captured: a variable of a closure's
   * scope; element: an array index; property, internal: a named property or V8 field.
   */
  kind: 'root' | 'global' | 'scope' | 'captured' | 'element' | 'property' | 'internal';
  /** The class of the object reached (`Map`, `handler (closure)`). */
  cls: string;
  /** For a closure: its function name (`handler`, '' when anonymous). */
  fn?: string;
  internal: boolean;
}

/** Edges that are V8 plumbing: the path goes through them but does not print them. */
const QUIET_EDGES = new Set(['native_context', 'script_context_table', 'context', 'previous', 'elements', 'properties', 'extension', 'global_proxy_object', 'map']);

export class HeapSnapshot {
  readonly nodeCount: number;
  readonly edgeCount: number;
  readonly t: Record<string, number> = {};
  readonly et: Record<string, number> = {};
  private classIndex?: { classOf: Int32Array; classes: HeapClass[] };
  private reverse?: { first: Uint32Array; from: Uint32Array; edge: Uint32Array };

  constructor(readonly a: SnapshotArrays) {
    this.nodeCount = a.nodeTypes.length;
    this.edgeCount = a.edgeTypes.length;
    a.nodeTypeNames.forEach((n, i) => (this.t[n] = i));
    a.edgeTypeNames.forEach((n, i) => (this.et[n] = i));
  }

  type(i: number): string {
    return this.a.nodeTypeNames[this.a.nodeTypes[i]];
  }

  name(i: number): string {
    return this.a.strings[this.a.nodeNames[i]];
  }

  id(i: number): number {
    return this.a.nodeIds[i];
  }

  selfSize(i: number): number {
    return this.a.selfSizes[i];
  }

  edgeType(e: number): string {
    return this.a.edgeTypeNames[this.a.edgeTypes[e]];
  }

  /** An edge's name: a property/variable name, or the element index as a string. */
  edgeName(e: number): string {
    const t = this.a.edgeTypes[e];
    if (t === this.et.element || t === this.et.hidden) return String(this.a.edgeNames[e]);
    return this.a.strings[this.a.edgeNames[e]] ?? String(this.a.edgeNames[e]);
  }

  /**
   * Largest id of a JS heap object. V8 numbers heap objects with odd ids, in the order a snapshot
   * (of this process, any earlier one included) first sees them, so an object first seen after
   * snapshot S has an id above S's maxId. Embedder (native) nodes get even ids derived from
   * addresses and are left out.
   */
  maxId(): number {
    let m = 0;
    const ids = this.a.nodeIds;
    for (let i = 0; i < ids.length; i++) if (ids[i] & 1 && ids[i] > m) m = ids[i];
    return m;
  }

  /** Node `i` is a JS heap object first seen after a snapshot whose maxId() was `maxId`. */
  isNewerThan(i: number, maxId: number): boolean {
    const id = this.a.nodeIds[i];
    return (id & 1) === 1 && id > maxId;
  }

  /** Every node's class (an index into `classes`). */
  classes(): { classOf: Int32Array; classes: HeapClass[] } {
    if (this.classIndex) return this.classIndex;
    const { nodeTypes, nodeNames, nodeTypeNames, strings } = this.a;
    const classOf = new Int32Array(this.nodeCount);
    const classes: HeapClass[] = [];
    const byName = new Map<string, number>();
    const memo = new Map<number, number>();
    const nTypes = nodeTypeNames.length;
    for (let i = 0; i < this.nodeCount; i++) {
      const memoKey = nodeNames[i] * nTypes + nodeTypes[i];
      let c = memo.get(memoKey);
      if (c === undefined) {
        const cls = readableClass(nodeTypeNames[nodeTypes[i]], strings[nodeNames[i]]);
        c = byName.get(cls.name);
        if (c === undefined) {
          c = classes.length;
          classes.push(cls);
          byName.set(cls.name, c);
        }
        memo.set(memoKey, c);
      }
      classOf[i] = c;
    }
    this.classIndex = { classOf, classes };
    return this.classIndex;
  }

  /** Retainers of every node, as arrays indexed like edges (CSR): first[i]..first[i+1]. */
  retainers(): { first: Uint32Array; from: Uint32Array; edge: Uint32Array } {
    if (this.reverse) return this.reverse;
    const { firstEdge, edgeTo } = this.a;
    const n = this.nodeCount;
    const first = new Uint32Array(n + 1);
    for (let e = 0; e < this.edgeCount; e++) first[edgeTo[e] + 1]++;
    for (let i = 0; i < n; i++) first[i + 1] += first[i];
    const fill = first.slice(0, n);
    const from = new Uint32Array(this.edgeCount);
    const edge = new Uint32Array(this.edgeCount);
    for (let i = 0; i < n; i++) {
      for (let e = firstEdge[i]; e < firstEdge[i + 1]; e++) {
        const k = fill[edgeTo[e]]++;
        from[k] = i;
        edge[k] = e;
      }
    }
    this.reverse = { first, from, edge };
    return this.reverse;
  }

  /** Nodes whose out-edges a path must not go through: code, hidden classes (they reach everything). */
  private opaque(i: number): boolean {
    const t = this.a.nodeTypes[i];
    return t === this.t.code || t === this.t['object shape'];
  }

  /**
   * Breadth-first distances from the roots over strong edges, the global object(s) first (so a
   * path reads `globalThis → …` rather than going through a stack frame or a handle scope), then
   * every other root. Returns each node's parent edge (-1: unreachable or the root).
   */
  shortestPaths(): { parentEdge: Int32Array; parentNode: Int32Array; dist: Int32Array } {
    const n = this.nodeCount;
    const { firstEdge, edgeTo, edgeTypes } = this.a;
    const weak = this.et.weak;
    const shortcut = this.et.shortcut;
    const dist = new Int32Array(n).fill(-1);
    const parentEdge = new Int32Array(n).fill(-1);
    const parentNode = new Int32Array(n).fill(-1);
    const queue = new Uint32Array(n);
    let head = 0;
    let tail = 0;
    dist[0] = 0;
    const bfs = (): void => {
      while (head < tail) {
        const i = queue[head++];
        if (this.opaque(i)) continue;
        for (let e = firstEdge[i]; e < firstEdge[i + 1]; e++) {
          if (edgeTypes[e] === weak) continue;
          const c = edgeTo[e];
          if (dist[c] >= 0) continue;
          dist[c] = dist[i] + 1;
          parentEdge[c] = e;
          parentNode[c] = i;
          queue[tail++] = c;
        }
      }
    };
    const seed = (pick: (e: number) => boolean): void => {
      for (let e = firstEdge[0]; e < firstEdge[1]; e++) {
        const c = edgeTo[e];
        if (!pick(e) || dist[c] >= 0) continue;
        dist[c] = 1;
        parentEdge[c] = e;
        parentNode[c] = 0;
        queue[tail++] = c;
      }
      bfs();
    };
    seed((e) => edgeTypes[e] === shortcut);
    seed((e) => edgeTypes[e] !== weak);
    return { parentEdge, parentNode, dist };
  }

  /**
   * Immediate dominators (Lengauer–Tarjan over strong edges from the synthetic root) and retained
   * sizes. Unreachable nodes get idom -1 and retain only themselves.
   */
  dominators(): { idom: Int32Array; retained: Float64Array; order: Uint32Array; reachable: number } {
    const n = this.nodeCount;
    const { firstEdge, edgeTo, edgeTypes, selfSizes } = this.a;
    const weak = this.et.weak;
    // DFS numbering (iterative).
    const dfnum = new Int32Array(n).fill(-1);
    const vertex = new Uint32Array(n);
    const parent = new Int32Array(n).fill(-1);
    const stackNode = new Uint32Array(n);
    const stackEdge = new Uint32Array(n);
    let sp = 0;
    let count = 0;
    dfnum[0] = count;
    vertex[count++] = 0;
    stackNode[0] = 0;
    stackEdge[0] = firstEdge[0];
    sp = 1;
    while (sp > 0) {
      const v = stackNode[sp - 1];
      let e = stackEdge[sp - 1];
      const end = firstEdge[v + 1];
      let pushed = false;
      while (e < end) {
        const w = edgeTo[e];
        const typ = edgeTypes[e];
        e++;
        if (typ === weak || dfnum[w] >= 0) continue;
        dfnum[w] = count;
        vertex[count++] = w;
        parent[w] = v;
        stackEdge[sp - 1] = e;
        stackNode[sp] = w;
        stackEdge[sp] = firstEdge[w];
        sp++;
        pushed = true;
        break;
      }
      if (!pushed) sp--;
    }
    const reachable = count;
    // Lengauer–Tarjan with path compression (simple version), on DFS numbers.
    const rev = this.retainers();
    const semi = new Int32Array(n);
    const idomN = new Int32Array(n).fill(-1);
    const ancestor = new Int32Array(n).fill(-1);
    const label = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      semi[i] = dfnum[i];
      label[i] = i;
    }
    const bucketHead = new Int32Array(n).fill(-1);
    const bucketNext = new Int32Array(n).fill(-1);
    const compressStack = new Uint32Array(n);
    const evalNode = (v: number): number => {
      if (ancestor[v] < 0) return v;
      // compress
      let top = 0;
      let u = v;
      while (ancestor[ancestor[u]] >= 0) {
        compressStack[top++] = u;
        u = ancestor[u];
      }
      while (top > 0) {
        const x = compressStack[--top];
        const a = ancestor[x];
        if (semi[label[a]] < semi[label[x]]) label[x] = label[a];
        ancestor[x] = ancestor[a];
      }
      return label[v];
    };
    for (let k = reachable - 1; k >= 1; k--) {
      const w = vertex[k];
      for (let r = rev.first[w]; r < rev.first[w + 1]; r++) {
        if (edgeTypes[rev.edge[r]] === weak) continue;
        const v = rev.from[r];
        if (dfnum[v] < 0) continue;
        const u = evalNode(v);
        if (semi[u] < semi[w]) semi[w] = semi[u];
      }
      const sv = vertex[semi[w]];
      bucketNext[w] = bucketHead[sv];
      bucketHead[sv] = w;
      const p = parent[w];
      ancestor[w] = p;
      for (let v = bucketHead[p]; v >= 0; v = bucketNext[v]) {
        const u = evalNode(v);
        idomN[v] = semi[u] < semi[v] ? u : p;
      }
      bucketHead[p] = -1;
    }
    for (let k = 1; k < reachable; k++) {
      const w = vertex[k];
      if (idomN[w] !== vertex[semi[w]]) idomN[w] = idomN[idomN[w]];
    }
    idomN[0] = -1;
    const retained = Float64Array.from(selfSizes);
    for (let k = reachable - 1; k >= 1; k--) {
      const w = vertex[k];
      retained[idomN[w]] += retained[w];
    }
    return { idom: idomN, retained, order: vertex.subarray(0, reachable), reachable };
  }

  /** A readable one-line label of a node: its class, with the function name for closures. */
  label(i: number): string {
    return this.classes().classes[this.classes().classOf[i]].name;
  }

  isInternal(i: number): boolean {
    return this.classes().classes[this.classes().classOf[i]].internal;
  }

  /** The allocation stack of node `i`, innermost frame first (empty when it was not tracked). */
  allocationStack(i: number): TraceFrame[] {
    const tr = this.a.traces;
    if (!tr) return [];
    const frames: TraceFrame[] = [];
    let t = tr.nodeTrace[i];
    for (let guard = 0; t > 0 && guard < 512; guard++) {
      const fi = tr.functionOf[t] * 6;
      const name = this.a.strings[tr.functionInfos[fi + 1]];
      if (name !== '(root)') {
        frames.push({ name, url: this.a.strings[tr.functionInfos[fi + 2]] ?? '', scriptId: tr.functionInfos[fi + 3], line: tr.functionInfos[fi + 4], column: tr.functionInfos[fi + 5] });
      }
      t = tr.parent[t];
    }
    return frames;
  }

  /** Where a closure's function is defined: script id, 0-based line and column. */
  closureLocation(i: number): { scriptId: number; line: number; column: number } | undefined {
    const { locations, locationFields, nodeFieldCount } = this.a;
    // Locations are sorted by object index as V8 writes them (node order); binary search.
    const target = i * nodeFieldCount;
    let lo = 0;
    let hi = locations.length / locationFields - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = locations[mid * locationFields];
      if (v === target) return { scriptId: locations[mid * locationFields + 1], line: locations[mid * locationFields + 2], column: locations[mid * locationFields + 3] };
      if (v < target) lo = mid + 1;
      else hi = mid - 1;
    }
    // Not sorted after all: linear scan.
    for (let k = 0; k < locations.length; k += locationFields) {
      if (locations[k] === target) return { scriptId: locations[k + 1], line: locations[k + 2], column: locations[k + 3] };
    }
    return undefined;
  }

  /**
   * The path from a root to node `i` as readable steps. V8 plumbing (the native context, script
   * context tables, elements/property stores, closure contexts) is walked but not printed; a
   * variable read through a closure's context prints as `captured NAME`.
   */
  pathTo(i: number, paths: { parentEdge: Int32Array; parentNode: Int32Array }): PathStep[] | undefined {
    const chain: number[] = [];
    let cur = i;
    let guard = 0;
    while (cur > 0) {
      const e = paths.parentEdge[cur];
      if (e < 0) return undefined;
      chain.push(e);
      cur = paths.parentNode[cur];
      if (++guard > 10_000) return undefined;
    }
    chain.reverse();
    const steps: PathStep[] = [];
    const { edgeTo } = this.a;
    for (let k = 0; k < chain.length; k++) {
      const e = chain[k];
      const to = edgeTo[e];
      const type = this.edgeType(e);
      const name = this.edgeName(e);
      const from = k === 0 ? 0 : edgeTo[chain[k - 1]];
      const cls = this.label(to);
      const internal = this.isInternal(to);
      const fn = this.type(to) === 'closure' ? this.name(to) : undefined;
      if (k === 0) {
        if (type === 'shortcut') steps.push({ edge: 'globalThis', kind: 'global', cls: 'global', internal: false });
        continue;
      }
      if (this.type(from) === 'synthetic') {
        // (GC roots) → (Stack roots) → …: name the innermost kind of root once.
        if (this.type(to) === 'synthetic') continue;
        steps.push({ edge: this.name(from).replace(/^\((.*)\)$/, '$1'), kind: 'root', cls: '', internal: true });
      }
      let step: PathStep;
      if (type === 'context') {
        step = this.isScriptContext(from) ? { edge: name, kind: 'scope', cls, fn, internal } : { edge: `captured ${name}`, kind: 'captured', cls, fn, internal };
      } else if (type === 'element') step = { edge: `[${name}]`, kind: 'element', cls, fn, internal };
      else if (type === 'hidden') step = { edge: this.name(from) === 'system / Context' ? `captured #${name}` : '', kind: this.name(from) === 'system / Context' ? 'captured' : 'internal', cls, fn, internal };
      else if (type === 'internal') {
        const quiet = QUIET_EDGES.has(name) || /^\d+$/.test(name);
        const weakMapValue = / part of key .* pair in WeakMap/.test(name);
        step = { edge: weakMapValue ? '[WeakMap value]' : quiet ? '' : name, kind: 'internal', cls, fn, internal };
      } else step = { edge: name, kind: 'property', cls, fn, internal };
      steps.push(step);
    }
    return steps;
  }

  /** A Context that belongs to the script scope (a top-level let/const of some cell or module). */
  private isScriptContext(ctx: number): boolean {
    const rev = this.retainers();
    for (let r = rev.first[ctx]; r < rev.first[ctx + 1]; r++) {
      const p = rev.from[r];
      const e = rev.edge[r];
      if (this.edgeType(e) === 'element' || this.edgeType(e) === 'internal') {
        // The script context table is an internal array held by the native context.
        for (let r2 = rev.first[p]; r2 < rev.first[p + 1]; r2++) {
          if (this.edgeName(rev.edge[r2]) === 'script_context_table') return true;
        }
      }
    }
    return false;
  }

  /** The variables a closure's context (and the contexts it chains to, up to the script) hold. */
  captures(closure: number, retained?: Float64Array): Array<{ name: string; cls: string; size: number }> {
    const { firstEdge, edgeTo } = this.a;
    let ctx = -1;
    for (let e = firstEdge[closure]; e < firstEdge[closure + 1]; e++) {
      if (this.edgeType(e) === 'internal' && this.edgeName(e) === 'context') ctx = edgeTo[e];
    }
    const out: Array<{ name: string; cls: string; size: number }> = [];
    for (let depth = 0; ctx >= 0 && depth < 8; depth++) {
      if (this.name(ctx) !== 'system / Context' || this.isScriptContext(ctx)) break;
      let next = -1;
      for (let e = firstEdge[ctx]; e < firstEdge[ctx + 1]; e++) {
        const to = edgeTo[e];
        const t = this.edgeType(e);
        if (t === 'context' || (t === 'hidden' && !this.isInternal(to))) {
          out.push({ name: t === 'context' ? this.edgeName(e) : `#${this.edgeName(e)}`, cls: this.label(to), size: retained ? retained[to] : this.selfSize(to) });
        } else if (t === 'internal' && this.edgeName(e) === 'previous') next = to;
      }
      ctx = next;
    }
    return out;
  }
}

/**
 * Render path steps: `cache (Map) → table → Entry`, `handlers (Array) → [2] → ƒ handler → captured
 * big (Array)`, `globalThis → bus (EventEmitter) → _events (Object) → tick (Array) → [1] → ƒ onTick`.
 * A top-level variable of a cell starts the path (how V8 reaches its scope is plumbing); an element
 * index is a step of its own; V8-internal holders show only their field name (`table`).
 */
export function formatPath(steps: PathStep[] | undefined): string {
  if (!steps || steps.length === 0) return '(no path from a GC root)';
  let start = 0;
  for (let k = steps.length - 1; k >= 0; k--) {
    if (steps[k].kind === 'scope') {
      start = k;
      break;
    }
  }
  const parts: string[] = [];
  const show = (s: PathStep): string => (s.fn !== undefined ? `ƒ ${s.fn || '(anonymous)'}` : s.cls);
  for (let k = start; k < steps.length; k++) {
    const s = steps[k];
    const last = k === steps.length - 1;
    const visible = !s.internal && Boolean(s.cls);
    if (s.kind === 'global' || s.kind === 'root') {
      if (!parts.length) parts.push(s.edge);
      continue;
    }
    if (s.kind === 'element') {
      parts.push(s.edge);
      if (visible || last) parts.push(show(s));
      continue;
    }
    if (!s.edge) {
      if (visible || last) parts.push(show(s));
      continue;
    }
    if (s.fn !== undefined && s.edge === s.fn) parts.push(show(s));
    else parts.push(visible || last ? `${s.edge} (${show(s)})` : s.edge);
  }
  return parts.join(' → ');
}

/** V8's (type, name) of a node → the class a user recognises. */
export function readableClass(type: string, name: string): HeapClass {
  switch (type) {
    case 'object':
      if (name === 'system / Context') return { name: '(closure scope)', internal: true };
      if (name.startsWith('system / ')) return { name: `(system) ${name.slice(9)}`, internal: true };
      return { name: name || 'Object', internal: false };
    case 'closure':
      return { name: name ? `${name} (closure)` : '(anonymous closure)', internal: false };
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return { name: 'string', internal: false };
    case 'number':
      return { name: 'number (heap)', internal: false };
    case 'symbol':
      return { name: 'Symbol', internal: false };
    case 'bigint':
      return { name: 'BigInt', internal: false };
    case 'regexp':
      return { name: 'RegExp', internal: false };
    case 'native':
      if (name === 'system / JSArrayBufferData') return { name: 'ArrayBuffer data', internal: false };
      return { name: name.startsWith('system / ') ? `(native) ${name.slice(9)}` : name, internal: name.startsWith('system / ') };
    case 'array':
      // A JS array's elements: its bytes are what grows when an array fills up, so it is shown.
      if (name === '(object elements)') return { name: '(array elements)', internal: false };
      if (name === '(object properties)') return { name: '(object properties)', internal: true };
      return { name: '(internal array)', internal: true };
    case 'code':
      return { name: '(compiled code)', internal: true };
    case 'object shape':
      return { name: '(hidden class)', internal: true };
    case 'synthetic':
      return { name: '(root)', internal: true };
    case 'hidden':
    default:
      return { name: '(system)', internal: true };
  }
}

// ---------------------------------------------------------------------------------------------
// Summaries (what %heapsnap keeps) and their comparison (tracemalloc's compare_to)

export interface ClassTotals {
  count: number;
  size: number;
}

export interface SnapshotSummary {
  name: string;
  time: number;
  nodeCount: number;
  totalSize: number;
  maxId: number;
  byClass: Map<string, ClassTotals & { internal: boolean }>;
  /** Live sampled allocations by site (`cell-3:4(fn)`), when a sampling run was active. */
  bySite?: Map<string, ClassTotals>;
}

export function summarize(snap: HeapSnapshot, name: string): SnapshotSummary {
  const { classOf, classes } = snap.classes();
  const count = new Float64Array(classes.length);
  const size = new Float64Array(classes.length);
  const self = snap.a.selfSizes;
  let total = 0;
  for (let i = 0; i < snap.nodeCount; i++) {
    const c = classOf[i];
    count[c]++;
    size[c] += self[i];
    total += self[i];
  }
  const byClass = new Map<string, ClassTotals & { internal: boolean }>();
  classes.forEach((cls, c) => {
    if (cls.name !== '(root)') byClass.set(cls.name, { count: count[c], size: size[c], internal: cls.internal });
  });
  return { name, time: Date.now(), nodeCount: snap.nodeCount, totalSize: total, maxId: snap.maxId(), byClass };
}

export interface DiffRow {
  key: string;
  size: number;
  sizeDiff: number;
  count: number;
  countDiff: number;
  internal?: boolean;
}

/**
 * tracemalloc's `Snapshot.compare_to`: one row per key present in either snapshot, sorted by
 * |size diff|, then size, |count diff|, count, key (descending), so the top growth comes first.
 */
export function compareTotals(newer: Map<string, ClassTotals & { internal?: boolean }>, older: Map<string, ClassTotals>): DiffRow[] {
  const rows: DiffRow[] = [];
  const keys = new Set([...newer.keys(), ...older.keys()]);
  for (const key of keys) {
    const b = newer.get(key);
    const a = older.get(key);
    rows.push({
      key,
      size: b?.size ?? 0,
      sizeDiff: (b?.size ?? 0) - (a?.size ?? 0),
      count: b?.count ?? 0,
      countDiff: (b?.count ?? 0) - (a?.count ?? 0),
      internal: b?.internal ?? (a as { internal?: boolean } | undefined)?.internal,
    });
  }
  rows.sort((x, y) =>
    Math.abs(y.sizeDiff) - Math.abs(x.sizeDiff) || y.size - x.size || Math.abs(y.countDiff) - Math.abs(x.countDiff) || y.count - x.count || (x.key < y.key ? 1 : x.key > y.key ? -1 : 0),
  );
  return rows;
}
