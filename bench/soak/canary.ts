// The key canary: every line the servers let out is scanned for the key, in every form it
// could leak in.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { canary } from './settings.js';

function canaryForms(key: string): string[] {
  return [...new Set([key, key.replace(/^sk-canary-/, ''), Buffer.from(key).toString('base64')])];
}

class Scanner {
  private readonly forms = canaryForms(canary);
  readonly counts = new Map<string, { lines: number; leaks: number }>();
  readonly leaks: { category: string; excerpt: string }[] = [];

  line(category: string, text: string): void {
    const c = this.counts.get(category) ?? { lines: 0, leaks: 0 };
    this.counts.set(category, c);
    c.lines++;
    for (const form of this.forms) {
      const at = text.indexOf(form);
      if (at < 0) continue;
      c.leaks++;
      const excerpt = text.slice(Math.max(0, at - 80), at + form.length + 40);
      this.leaks.push({ category, excerpt: this.forms.reduce((s, f) => s.split(f).join('<CANARY>'), excerpt) });
      return;
    }
  }

  /** A byte stream, scanned line by line as it arrives. */
  stream(category: string): { feed(text: string): void; end(): void } {
    if (!this.counts.has(category)) this.counts.set(category, { lines: 0, leaks: 0 });
    let carry = '';
    return {
      feed: (text) => {
        const parts = (carry + text).split('\n');
        carry = parts.pop() ?? '';
        for (const p of parts) this.line(category, p);
      },
      end: () => {
        if (carry) this.line(category, carry);
        carry = '';
      },
    };
  }

  /** Every line of every file under a folder (the state folder: conversations, ledger.jsonl). */
  files(category: string, dir: string): number {
    const walk = (d: string): string[] => readdirSync(d).flatMap((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : [join(d, e)]));
    const paths = walk(dir);
    for (const p of paths) for (const l of readFileSync(p, 'utf8').split('\n')) this.line(category, `${relative(dir, p)}: ${l}`);
    return paths.length;
  }
}
/** The run's one scan: every part of the soak feeds it, the report reads it. */
export const scan = new Scanner();

/** The scan itself finds the key in every form it looks for (so "0 leaked" means something). */
export function checkTheScan(): void {
  const selfCheck = new Scanner();
  for (const form of canaryForms(canary)) selfCheck.line('self-check', `x ${form} y`);
  if (selfCheck.leaks.length !== canaryForms(canary).length) throw new Error('the canary scan does not find the canary');
}
