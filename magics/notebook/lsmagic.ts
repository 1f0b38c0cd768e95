// %lsmagic lists the magics; %magic shows every magic's help.
import { escapeHtml } from '../render/format.js';
import { helpText, type MagicRegistry } from './registry.js';
import type { Magic } from './types.js';

export function lsmagic(registry: MagicRegistry): Magic {
  return {
    name: 'lsmagic',
    kinds: ['line'],
    summary: 'List the available magics.',
    usage: '%lsmagic',
    options: [],
    async run(ctx) {
      const all = registry.all();
      const line = all.filter((m) => m.kinds.includes('line')).map((m) => `%${m.name}`);
      const cell = all.filter((m) => m.kinds.includes('cell')).map((m) => `%%${m.name}`);
      const text = `Available line magics:\n${line.join('  ')}\n\nAvailable cell magics:\n${cell.join('  ')}\n\nAppend ? for help on one (%timeit?); %magic shows them all.`;
      const rows = all.map((m) => `<tr><td style="text-align:left"><code>${escapeHtml(m.kinds.map((k) => (k === 'line' ? '%' : '%%') + m.name).join(' '))}</code></td><td style="text-align:left">${escapeHtml(m.summary)}</td></tr>`);
      ctx.display.bundle({ 'text/plain': text, 'text/html': `<table class="tsprof-table"><thead><tr><th style="text-align:left">magic</th><th style="text-align:left">what it does</th></tr></thead><tbody>${rows.join('')}</tbody></table>` });
      return undefined;
    },
  };
}

export function magicHelp(registry: MagicRegistry): Magic {
  return {
    name: 'magic',
    kinds: ['line'],
    summary: 'Show the help of every magic.',
    usage: '%magic',
    options: [],
    async run(ctx) {
      const text = registry.all().map((m) => helpText(m)).join(`\n\n${'-'.repeat(60)}\n\n`);
      ctx.addPayload({ source: 'page', data: { 'text/plain': text }, start: 0 });
      return undefined;
    },
  };
}
