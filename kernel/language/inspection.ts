// inspect_request: TypeScript's quick info (type, doc comment, JSDoc tags) for the name under the
// cursor; when TypeScript has nothing or only `any`, a description of the live value. Main thread.
import type { InspectReply } from '../wire/message.js';
import { codePointToUtf16 } from './code-points.js';
import { inspectTarget } from './cursor.js';
import type { RuntimeIntrospection } from './index.js';
import type { TsQuickInfo } from './protocol.js';
import { describeValue } from './runtime-names.js';
import { scanCode } from './scan.js';

export type TsInspect = (code: string, pos: number, detailLevel: 0 | 1) => Promise<TsQuickInfo | null | undefined>;

const NOT_FOUND: InspectReply = { status: 'ok', found: false, data: {}, metadata: {} };

export async function inspect(tsInspect: TsInspect, runtime: RuntimeIntrospection, code: string, cursorPos: number, detailLevel: 0 | 1): Promise<InspectReply> {
  const pos = codePointToUtf16(code, cursorPos);
  const target = inspectTarget(code, scanCode(code), pos);
  if (!target) return NOT_FOUND;
  const info = (await tsInspect(code, target.start, detailLevel)) ?? undefined;
  if (info && !info.isAny) return found(fromQuickInfo(info));
  const peeked = await runtime.peek(target.expression).catch(() => ({ ok: false as const }));
  if (peeked.ok) {
    const d = describeValue(target.expression, peeked.value, detailLevel);
    if (info) {
      // `x: any` from TypeScript, then what x really is.
      const ts = fromQuickInfo(info);
      return found({ plain: `${ts.plain}\n\n${d.plain}`, markdown: `${ts.markdown}\n\n${d.markdown}` });
    }
    return found(d);
  }
  return info ? found(fromQuickInfo(info)) : NOT_FOUND;
}

function found(text: { plain: string; markdown: string }): InspectReply {
  return { status: 'ok', found: true, data: { 'text/plain': text.plain, 'text/markdown': text.markdown }, metadata: {} };
}

function fromQuickInfo(info: TsQuickInfo): { plain: string; markdown: string } {
  const plain = [info.signature];
  const markdown = ['```typescript\n' + info.signature + '\n```'];
  if (info.documentation) {
    plain.push(info.documentation);
    markdown.push(info.documentation);
  }
  if (info.tags.length) {
    plain.push(info.tags.map((t) => `@${t.name}${t.text ? ' ' + t.text : ''}`).join('\n'));
    markdown.push(info.tags.map((t) => `*@${t.name}*${t.text ? ' — ' + tagText(t) : ''}`).join('\n\n'));
  }
  if (info.source && info.source !== info.signature) {
    plain.push(`Source:\n${info.source}`);
    markdown.push('**Source:**\n\n```typescript\n' + info.source + '\n```');
  }
  return { plain: plain.join('\n\n'), markdown: markdown.join('\n\n') };
}

/** `@param name description` reads best with the parameter name set apart. */
function tagText(t: { name: string; text: string }): string {
  if (t.name === 'param' || t.name === 'template' || t.name === 'property') {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(t.text);
    if (m) return `\`${m[1]}\`${m[2] ? ' ' + m[2] : ''}`;
  }
  return t.text;
}
