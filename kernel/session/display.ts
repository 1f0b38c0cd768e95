// The display API cells see: `display(value)`, `display.html(...)` and friends, and handles
// that update their output in place (display_id → update_display_data).
import { randomUUID } from 'node:crypto';
import type { MimeBundle } from '../wire/message.js';
import { MIME_BUNDLE, base64, toDisplayOutput, type DisplayOutput } from './mime.js';

export interface DisplayPublisher {
  /** Publish `display_data`, or `update_display_data` when `update` is true. */
  publish(output: DisplayOutput, displayId: string | undefined, update: boolean): void;
  /** Publish `clear_output`. */
  clear(wait: boolean): void;
}

export interface DisplayHandle {
  readonly displayId: string;
  /** Replace what this display shows (`raw`: value is a ready MIME bundle). */
  update(value: unknown, options?: { raw?: boolean }): void;
  /** Show the same display again (another view that updates together). */
  display(value: unknown, options?: { raw?: boolean }): void;
}

export interface DisplayOptions {
  /** Give the display an id so it can be updated later; `true` makes one up. */
  displayId?: string | true;
  /** Treat `value` as a ready MIME bundle. */
  raw?: boolean;
  metadata?: Record<string, unknown>;
}

export interface DisplayFunction {
  (value: unknown, options?: DisplayOptions): DisplayHandle;
  html(html: string, options?: DisplayOptions): DisplayHandle;
  markdown(md: string, options?: DisplayOptions): DisplayHandle;
  svg(svg: string, options?: DisplayOptions): DisplayHandle;
  png(data: string | Uint8Array | ArrayBuffer, options?: DisplayOptions): DisplayHandle;
  jpeg(data: string | Uint8Array | ArrayBuffer, options?: DisplayOptions): DisplayHandle;
  json(value: unknown, options?: DisplayOptions): DisplayHandle;
  latex(tex: string, options?: DisplayOptions): DisplayHandle;
  vegalite(spec: object, options?: DisplayOptions): DisplayHandle;
  text(text: string, options?: DisplayOptions): DisplayHandle;
  /** A bundle of several representations at once. */
  bundle(bundle: MimeBundle, options?: DisplayOptions): DisplayHandle;
  /** A handle with a fresh display id and nothing shown yet. */
  handle(): DisplayHandle;
  /** Clear the cell's output; with `wait`, only when the next output arrives (no flicker in loops). */
  clear(wait?: boolean): void;
  /** The symbol an object's method may use to choose its own MIME bundle. */
  readonly mimebundle: typeof MIME_BUNDLE;
}

const HANDLE = Symbol('tsprof.displayHandle');

/** A handle is what `display(...)` returns; like IPython's `display()` returning None, it is not shown as a cell's result. */
export function isDisplayHandle(value: unknown): boolean {
  return typeof value === 'object' && value !== null && HANDLE in value;
}

export function createDisplay(publisher: DisplayPublisher): DisplayFunction {
  const outputFor = (value: unknown, options: DisplayOptions | undefined): DisplayOutput => {
    if (options?.raw) {
      const data = { ...(value as MimeBundle) };
      if (!('text/plain' in data)) data['text/plain'] = `<${Object.keys(data)[0] ?? 'empty'} output>`;
      return { data, metadata: { ...options.metadata } };
    }
    const out = toDisplayOutput(value);
    return options?.metadata ? { data: out.data, metadata: { ...out.metadata, ...options.metadata } } : out;
  };
  const makeHandle = (displayId: string): DisplayHandle =>
    Object.defineProperty({
      displayId,
      update: (value: unknown, options?: { raw?: boolean }) => publisher.publish(outputFor(value, options), displayId, true),
      display: (value: unknown, options?: { raw?: boolean }) => publisher.publish(outputFor(value, options), displayId, false),
    }, HANDLE, { value: true });
  const show = (value: unknown, options?: DisplayOptions): DisplayHandle => {
    const id = options?.displayId === true || options?.displayId === undefined ? randomUUID() : options.displayId;
    publisher.publish(outputFor(value, options), options?.displayId === undefined ? undefined : id, false);
    return makeHandle(id);
  };
  const as = (mime: string, plain: string, transform: (v: unknown) => unknown = (v) => v) =>
    (value: unknown, options?: DisplayOptions): DisplayHandle =>
      show({ [mime]: transform(value), 'text/plain': plain }, { ...options, raw: true });
  const display = show as DisplayFunction;
  Object.assign(display, {
    html: as('text/html', '<HTML output>'),
    markdown: as('text/markdown', '<Markdown output>'),
    svg: as('image/svg+xml', '<SVG image>'),
    png: as('image/png', '<PNG image>', base64),
    jpeg: as('image/jpeg', '<JPEG image>', base64),
    latex: as('text/latex', '<LaTeX output>'),
    vegalite: as('application/vnd.vegalite.v5+json', '<Vega-Lite chart>'),
    text: (text: string, options?: DisplayOptions) => show({ 'text/plain': text }, { ...options, raw: true }),
    json: (value: unknown, options?: DisplayOptions) =>
      show({ 'application/json': value, 'text/plain': JSON.stringify(value, null, 2) }, { ...options, raw: true }),
    bundle: (bundle: MimeBundle, options?: DisplayOptions) => show(bundle, { ...options, raw: true }),
    handle: () => makeHandle(randomUUID()),
    clear: (wait = false) => publisher.clear(wait),
  });
  Object.defineProperty(display, 'mimebundle', { value: MIME_BUNDLE, enumerable: true });
  return display;
}
