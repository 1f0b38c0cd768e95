// A value → its MIME bundle. Objects choose their own bundle through a protocol; everything
// else gets text/plain from util.inspect. Every bundle carries text/plain.
import { inspect, types } from 'node:util';
import type { MimeBundle } from '../wire/message.js';
import { withPristine } from '../../magics/engines/realm.js';

/** Implement `[MIME_BUNDLE]()` (or IPython's `_repr_mimebundle_()`) to choose how a value displays. */
export const MIME_BUNDLE = Symbol.for('tsprof.mimebundle');

export interface DisplayOutput {
  data: MimeBundle;
  metadata: Record<string, unknown>;
}

const REPR_METHODS: Array<[string, string]> = [
  ['_repr_html_', 'text/html'],
  ['_repr_markdown_', 'text/markdown'],
  ['_repr_svg_', 'image/svg+xml'],
  ['_repr_png_', 'image/png'],
  ['_repr_jpeg_', 'image/jpeg'],
  ['_repr_latex_', 'text/latex'],
  ['_repr_json_', 'application/json'],
];

/** util.inspect is main-realm code calling e.g. `output.push`: it runs with the realm's methods as at start. */
export function plainText(value: unknown): string {
  return withPristine(() => (typeof value === 'string' ? inspect(value) : inspect(value, { depth: 4, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100 })));
}

/**
 * A value's bundle. A representation method that throws does not lose the value: like IPython's
 * formatters, the failure is reported through `onReprError` and the other representations (at least
 * text/plain) are still shown.
 */
export function toDisplayOutput(value: unknown, onReprError: (method: string, error: unknown) => void = () => undefined): DisplayOutput {
  const data: MimeBundle = {};
  let metadata: Record<string, unknown> = {};
  const attempt = <T>(method: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      onReprError(method, e);
      return undefined;
    }
  };
  if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
    const v = value as Record<string | symbol, unknown>;
    const custom = attempt('[display.mimebundle]', () => (typeof v[MIME_BUNDLE] === 'function' ? v[MIME_BUNDLE] : v._repr_mimebundle_));
    if (typeof custom === 'function') {
      const out = attempt('[display.mimebundle]()', () => custom.call(value) as MimeBundle | { data: MimeBundle; metadata?: Record<string, unknown> } | undefined);
      if (out && typeof out === 'object') {
        if ('data' in out && typeof out.data === 'object' && out.data !== null) {
          Object.assign(data, out.data);
          metadata = { ...(out as { metadata?: Record<string, unknown> }).metadata };
        } else Object.assign(data, out);
      }
    }
    for (const [method, mime] of REPR_METHODS) {
      if (mime in data) continue;
      const r = attempt(`${method}()`, () => (typeof v[method] === 'function' ? (v[method] as () => unknown).call(value) : undefined));
      if (r !== undefined && r !== null) {
        const encoded = attempt(`${method}()`, () => (mime === 'image/png' || mime === 'image/jpeg' ? base64(r) : r));
        if (encoded !== undefined) data[mime] = encoded;
      }
    }
  }
  if (!('text/plain' in data)) data['text/plain'] = attempt('util.inspect', () => plainText(value)) ?? '<value that cannot be shown>';
  return { data, metadata };
}

/** Make a result object display as `text` (the way IPython's result objects print as their report). */
export function displaysAs<T extends object>(result: T, text: () => string): T {
  Object.defineProperty(result, MIME_BUNDLE, { value: () => ({ 'text/plain': text() }), enumerable: false });
  return result;
}

export function base64(v: unknown): string {
  if (typeof v === 'string') return v;
  // `types` checks work on values from any realm (cells and the kernel may not share one).
  if (types.isUint8Array(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (types.isArrayBuffer(v)) return Buffer.from(v as ArrayBuffer).toString('base64');
  throw new TypeError('image data must be a base64 string, a Buffer, a Uint8Array or an ArrayBuffer');
}
