/**
 * kimi_agent's workspace (src/agent): the read-only tools Kimi explores with (list, read, grep),
 * the in-memory overlay its edits go to (edit, write), and the patch it becomes. Fixture trees in
 * temp folders; no model needed. A canary file outside the root must never show in any output.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, cpSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { OUTPUT_TOKEN_CAP, capOutput } from '../src/agent/cap.js';
import { AGENT_TOOLS, callTool, toolsFor } from '../src/agent/tools/index.js';
import type { AgentTool, ToolRun } from '../src/agent/tool.js';
import { Workspace } from '../src/agent/workspace.js';
import { estimateTextTokens } from '../src/kimi/tokens.js';
import { ROOT } from './helpers/mcp.js';
import { hashTree, tempDir } from './helpers/temp.js';

const run = promisify(execFile);
const CANARY = 'CANARY-outside-the-root-5d1e';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
const tool = (name: string): AgentTool => AGENT_TOOLS.find((t) => t.name === name)!;

/** A temp folder holding `files` (relative path → content). */
function tree(files: Record<string, string | Buffer>, prefix = 'kimi-agent-'): string {
  const root = tempDir(prefix);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

/** The message of the UsageError `call` must fail with. */
async function refusal(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as UsageError).message;
}

const lines = (n: number, text: (i: number) => string) => Array.from({ length: n }, (_, i) => text(i + 1)).join('\n') + '\n';

const A_TS = 'export function connect() {\n  return open();\n}\n\nexport function reconnect() {\n  return connect();\n}\n';
const outside = tree({ 'secret.txt': `${CANARY}\n`, 'more/secret.ts': `export const key = "${CANARY}";\n` }, 'kimi-agent-outside-');
const project = tree({
  '.gitignore': 'dist/\n*.log\n',
  'README.md': '# Fixture\nHow to reconnect.\n',
  'src/a.ts': A_TS,
  'src/b.ts': 'import { connect } from "./a";\nconnect();\nconnect();\n',
  'src/long.ts': lines(1000, (i) => `export const line${i} = ${i};`),
  'src/wide.ts': lines(300, (i) => `// ${i} ${'word '.repeat(200)}`),
  'src/crlf.ts': 'const a = 1;\r\nconst b = 2;\r\n',
  'src/time:12.txt': 'a name with a colon\n',
  'src/lookahead.ts': 'ends with foo\nfoo bar\n',
  'src/gen/.gitignore': '*.gen.ts\n',
  'src/gen/x.gen.ts': 'reconnect generated\n',
  'many/.keep': '',
  'dist/out.js': 'reconnect built\n',
  'debug.log': 'reconnect log\n',
  'node_modules/pkg/index.js': 'reconnect dependency\n',
  '.git/HEAD': 'ref: refs/heads/main\n',
  'logo.png': PNG,
  'docs/read me.md': 'spaces in the name\n',
});
for (let i = 0; i < 600; i++) writeFileSync(join(project, 'many', `f${String(i).padStart(3, '0')}.txt`), `reconnect ${i}\n`);
symlinkSync(join(outside, 'secret.txt'), join(project, 'src', 'escape.ts'));
symlinkSync(join(outside, 'more'), join(project, 'linked'));
symlinkSync(join(project, 'src', 'a.ts'), join(project, 'src', 'alias.ts'));

const allowed = { folders: [project], from: 'the test' };
const open = () => Workspace.open(allowed);
/** Every output and refusal Kimi was given in this file: none may hold the canary. */
const seenByKimi: string[] = [];
async function call(name: string, args: Record<string, unknown>, workspace: Workspace): Promise<ToolRun> {
  try {
    const result = await tool(name).run(args, workspace);
    seenByKimi.push(result.output, result.step);
    return result;
  } catch (e) {
    seenByKimi.push((e as Error).message);
    throw e;
  }
}

let before: Record<string, string>;
beforeAll(async () => {
  await run('mkfifo', [join(project, 'src', 'pipe.ts')]);
  symlinkSync(join(project, 'src', 'pipe.ts'), join(project, 'src', 'pipe-link.ts'));
  before = hashTree(project);
});
afterAll(() => {
  // A reader blocked on the pipe (code that opens it without checking) is released by a writer.
  try {
    closeSync(openSync(join(project, 'src', 'pipe.ts'), constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // no reader waiting
  }
  expect(seenByKimi.join('\n')).not.toContain(CANARY);
  expect(hashTree(project)).toEqual(before); // nothing written, whatever the tests did
});

describe('list', () => {
  it('shows one level of a folder, folders marked, without .gitignore\'d entries, node_modules/ or .git/', async () => {
    const { output, step } = await call('list', {}, await open());
    const names = output.split('\n').slice(1);
    expect(names).toEqual(expect.arrayContaining(['.gitignore', 'README.md', 'src/', 'many/', 'docs/', 'logo.png']));
    expect(output).not.toMatch(/^(dist\/|debug\.log|node_modules\/|\.git\/)/m);
    expect(output).toMatch(/^linked {2}\(symlink out of the project: not readable\)$/m);
    expect(step).toMatch(/^list \. → \d+ entries$/);
    const src = await call('list', { path: 'src' }, await open());
    expect(src.output).toMatch(/^escape\.ts {2}\(symlink out of the project: not readable\)$/m);
    expect(src.output).toMatch(/^gen\/$/m);
  });

  it('lists the files a glob matches, .gitignore applied at every level, and caps a long listing saying how to narrow it', async () => {
    const ts = await call('list', { path: 'src/**/*.ts' }, await open());
    // src/alias.ts links to src/a.ts: one file, listed once, under its own name.
    expect(ts.output).toContain('src/**/*.ts (7 files):\nsrc/a.ts\nsrc/b.ts\nsrc/crlf.ts\n');
    expect(ts.output).not.toContain('x.gen.ts');
    expect(ts.output).toMatch(/^src\/escape\.ts {2}\(symlink outside the roots: not readable\)$/m);
    const many = await call('list', { path: 'many' }, await open());
    expect(many.output.split('\n')).toHaveLength(1 + 500 + 1);
    expect(many.output).toMatch(/\[cut at 500 of 601 entries: list a subfolder, or use a narrower glob\]$/);
  });
});

describe('read', () => {
  it('shows numbered lines of a file or a range, and records what was read for files_read', async () => {
    const workspace = await open();
    const whole = await call('read', { path: 'src/a.ts' }, workspace);
    expect(whole.output).toBe(`src/a.ts: lines 1-7 of 7\n1| export function connect() {\n2|   return open();\n3| }\n4|\n5| export function reconnect() {\n6|   return connect();\n7| }`);
    const range = await call('read', { path: 'src/long.ts:98-101' }, workspace);
    expect(range.output).toBe('src/long.ts: lines 98-101 of 1000\n 98| export const line98 = 98;\n 99| export const line99 = 99;\n100| export const line100 = 100;\n101| export const line101 = 101;');
    expect(range.step).toBe('read src/long.ts:98-101');
    await call('read', { path: 'src/long.ts:100-120' }, workspace);
    const named = await call('read', { path: 'src/time:12.txt' }, workspace);
    expect(named.output).toContain('a name with a colon');
    expect((await workspace.outcome()).files_read).toEqual([
      { path: 'src/a.ts', lines: [{ start: 1, end: 7 }] },
      { path: 'src/long.ts', lines: [{ start: 98, end: 120 }] },
      { path: 'src/time:12.txt', lines: [{ start: 1, end: 1 }] },
    ]);
  });

  it('pages a long file, saying which page and how to get the next', async () => {
    const workspace = await open();
    const first = await call('read', { path: 'src/long.ts' }, workspace);
    expect(first.output.split('\n')[0]).toBe('src/long.ts: lines 1-400 of 1000 (page 1 of 3); next: read src/long.ts:401-800');
    expect(first.output.split('\n')).toHaveLength(401);
    const last = await call('read', { path: 'src/long.ts:801-' }, workspace);
    expect(last.output.split('\n')[0]).toBe('src/long.ts: lines 801-1000 of 1000');
    expect(await refusal(call('read', { path: 'src/long.ts:1001-1002' }, workspace))).toContain('has 1000 lines; line 1001 is past the end');
  });

  it('cuts a page at about 20K tokens and says where to go on', async () => {
    const { output } = await call('read', { path: 'src/wide.ts' }, await open());
    const heading = output.split('\n')[0]!;
    expect(heading).toMatch(/^src\/wide\.ts: lines 1-(\d+) of 300 \(cut at about 20K tokens\); next: read src\/wide\.ts:(\d+)-300$/);
    const [, end, next] = /lines 1-(\d+).*:(\d+)-/.exec(heading)!;
    expect(Number(next)).toBe(Number(end) + 1);
    expect(estimateTextTokens(output)).toBeLessThanOrEqual(OUTPUT_TOKEN_CAP);
  });

  it('refuses binary files, folders and missing files, and a pipe without waiting on it', async () => {
    const workspace = await open();
    expect(await refusal(call('read', { path: 'logo.png' }, workspace))).toBe('logo.png is binary; only text files can be read.');
    expect(await refusal(call('read', { path: 'src' }, workspace))).toBe('src is a folder; list it to see its files.');
    expect(await refusal(call('read', { path: 'src/nope.ts' }, workspace))).toMatch(/^src\/nope\.ts does not exist in .*Find it with list or grep\.$/);
    expect(await refusal(call('read', { path: 'src/pipe.ts' }, workspace))).toBe('src/pipe.ts is a pipe; only text files can be read.');
  });
});

describe('grep', () => {
  it('finds a regular expression as path:line: text, leaving out .gitignore\'d, node_modules, binary files', async () => {
    const { output, step } = await call('grep', { pattern: 'reconnect|connect\\(\\);', glob: '{src,docs}/**' }, await open());
    // src/pipe-link.ts leads to a pipe: skipped without waiting on it.
    expect(output).toBe(['src/a.ts:5: export function reconnect() {', 'src/a.ts:6:   return connect();', 'src/b.ts:2: connect();', 'src/b.ts:3: connect();', '[4 matches in 2 files]', '[skipped: 1 not readable]'].join('\n'));
    expect(step).toBe('grep "reconnect|connect\\\\(\\\\);" {src,docs}/** → 4 matches');
    const everywhere = await call('grep', { pattern: 'RECONNECT', ignore_case: true, glob: '*' }, await open());
    expect(everywhere.output).toBe('README.md:2: How to reconnect.\n[1 match in 1 file]\n[skipped: 1 binary]');
  });

  it('sees a file changed on disk since an earlier search of the same run', async () => {
    const root = tree({ 'a.ts': 'const before = 1;\n' });
    const workspace = await Workspace.open({ folders: [root], from: 'the test' });
    expect((await call('grep', { pattern: 'before|after' }, workspace)).output).toBe('a.ts:1: const before = 1;\n[1 match in 1 file]');
    writeFileSync(join(root, 'a.ts'), 'const after = 1;\n');
    writeFileSync(join(root, 'b.ts'), 'const after = 2;\n');
    expect((await call('grep', { pattern: 'before|after' }, workspace)).output).toBe('a.ts:1: const after = 1;\nb.ts:1: const after = 2;\n[2 matches in 2 files]');
  });

  it('matches line by line, lookarounds included', async () => {
    const { output } = await call('grep', { pattern: 'foo(?!\\s)', glob: 'src/lookahead.ts' }, await open());
    expect(output).toBe('src/lookahead.ts:1: ends with foo\n[1 match in 1 file]');
  });

  it('refuses a bad regular expression, saying what is wrong', async () => {
    const message = await refusal(call('grep', { pattern: 'connect(' }, await open()));
    expect(message).toMatch(/^"connect\(" is not a valid JavaScript regular expression \(.*Unterminated group\)\. Escape special characters/);
  });

  it('stops a pattern that backtracks without end at its 2 s deadline and says so, rather than hold the server for minutes', async () => {
    const slow = tree({ 'src/ok.ts': 'fine\n', 'src/trap.txt': `${'a'.repeat(40)}!\n` }, 'kimi-agent-slow-');
    const workspace = await Workspace.open({ folders: [slow], from: 'the test' });
    const message = await refusal(call('grep', { pattern: '(a|aa)+$' }, workspace));
    expect(message).toMatch(/^"\(a\|aa\)\+\$" ran over 2 s on src\/ok\.ts, src\/trap\.txt and was stopped: it backtracks too much/);
    // Ordinary patterns are untouched by the deadline.
    expect((await call('grep', { pattern: '(get|set)[A-Z]\\w*\\(|reconnect', glob: 'src/**' }, await open())).step).toMatch(/→ \d+ match/);
  });

  it('stops at 200 matches, in path order, and says it cut', async () => {
    const { output, step } = await call('grep', { pattern: 'reconnect \\d+' }, await open());
    const shown = output.split('\n');
    expect(shown.slice(0, 2)).toEqual(['many/f000.txt:1: reconnect 0', 'many/f001.txt:1: reconnect 1']);
    expect(shown[199]).toBe('many/f199.txt:1: reconnect 199');
    expect(shown[200]).toMatch(/^\[cut at 200 matches, \d+ of \d+ files searched: narrow the glob or the pattern to see the rest\]$/);
    expect(step).toBe('grep "reconnect \\\\d+" → 200+ matches (cut)');
  });
});

describe('confinement', () => {
  it.each([
    ['read', { path: '../' }],
    ['read', { path: 'src/escape.ts' }],
    ['read', { path: 'linked/secret.ts' }],
    ['list', { path: 'linked' }],
    ['list', { path: '../../' }],
    ['grep', { pattern: 'CANARY', glob: 'linked/**' }],
    ['grep', { pattern: 'CANARY', glob: '../**' }],
    ['edit', { path: 'src/escape.ts', old_text: 'CANARY', new_text: 'x' }],
    ['write', { path: '../planted.ts', content: 'x' }],
    ['write', { path: 'linked/planted.ts', content: 'x' }],
  ])('%s %j is refused as a tool error, nothing outside read', async (name, args) => {
    const message = await refusal(call(name, args, await open()));
    expect(message).toMatch(/outside the folders this call may read|may not climb out/);
  });

  it('refuses absolute paths and file URIs outside the root, and globs through a symlink out', async () => {
    const workspace = await open();
    for (const path of [join(outside, 'secret.txt'), `file://${join(outside, 'secret.txt')}`, '/etc/passwd']) {
      expect(await refusal(call('read', { path }, workspace))).toContain('is outside the folders this call may read');
    }
    const all = await call('grep', { pattern: 'CANARY' }, workspace);
    expect(all.output).toMatch(/^No match for "CANARY" in \d+ files\./);
  });

  it('edits nothing inside .git', async () => {
    const message = await refusal(call('write', { path: '.git/hooks/pre-commit', content: 'echo' }, await open()));
    expect(message).toBe('.git/hooks/pre-commit is inside .git, which is not edited; name a project file.');
  });
});

/** A copy of the fixture as a git repository, where patches are checked and applied. */
async function gitCopy(from = project): Promise<string> {
  const copy = tempDir('kimi-agent-apply-');
  cpSync(from, copy, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes(`${from}/.git`) && !src.endsWith('pipe.ts') });
  await run('git', ['init', '-q'], { cwd: copy });
  return copy;
}
async function gitApply(copy: string, patch: string, check: boolean): Promise<void> {
  const file = join(tempDir('kimi-agent-patch-'), 'change.patch');
  writeFileSync(file, patch);
  await run('git', ['apply', ...(check ? ['--check'] : []), file], { cwd: copy });
}

describe('the overlay and its patch', () => {
  it('keeps edits in memory, shows them to read, grep and list, and makes one patch git applies', async () => {
    const workspace = await open();
    const edit = await call('edit', { path: 'src/a.ts', old_text: '  return connect();', new_text: '  return connect({ resume: true });' }, workspace);
    expect(edit.step).toBe('edit src/a.ts (1 replacement)');
    expect(edit.output).toContain('6|   return connect({ resume: true });');
    await call('edit', { path: 'src/b.ts', old_text: 'connect();\n', new_text: 'connect(1);\n', replace_all: true }, workspace);
    await call('edit', { path: 'src/crlf.ts', old_text: 'const a = 1;\nconst b = 2;', new_text: 'const a = 10;\nconst b = 20;' }, workspace);
    await call('edit', { path: 'docs/read me.md', old_text: 'spaces', new_text: 'Spaces' }, workspace);
    const write = await call('write', { path: 'src/resume/session.ts', content: 'export const resume = true;\n' }, workspace);
    expect(write.step).toBe('write src/resume/session.ts (1 line, new)');

    expect((await call('read', { path: 'src/a.ts:6' }, workspace)).output).toBe('src/a.ts: lines 6-6 of 7\n6|   return connect({ resume: true });');
    expect((await call('grep', { pattern: 'resume' }, workspace)).output).toBe(
      'src/a.ts:6:   return connect({ resume: true });\nsrc/resume/session.ts:1: export const resume = true;\n[2 matches in 2 files]\n[skipped: 1 binary, 1 not readable]',
    );
    expect((await call('list', { path: 'src/resume' }, workspace)).output).toBe('src/resume/ (1 entry):\nsession.ts  (new)');
    expect((await call('list', { path: 'src/**/s*.ts' }, workspace)).output).toBe('src/**/s*.ts (1 file):\nsrc/resume/session.ts  (new)');
    expect((await call('list', { path: 'src' }, workspace)).output).toMatch(/^a\.ts {2}\(edited\)$/m);

    const outcome = await workspace.outcome();
    expect(outcome.changed_files).toEqual(['src/a.ts', 'src/b.ts', 'src/crlf.ts', 'docs/read me.md', 'src/resume/session.ts']);
    expect(outcome.changed_on_disk).toEqual([]);
    expect(outcome.notes).toEqual([]);
    expect(outcome.patch).toContain('diff --git a/src/a.ts b/src/a.ts\n--- a/src/a.ts\n+++ b/src/a.ts\n');
    expect(outcome.patch).toContain('--- /dev/null\n+++ b/src/resume/session.ts\n');

    const copy = await gitCopy();
    await gitApply(copy, outcome.patch, true);
    await gitApply(copy, outcome.patch, false);
    expect(readFileSync(join(copy, 'src/a.ts'), 'utf8')).toBe(A_TS.replace('  return connect();', '  return connect({ resume: true });'));
    expect(readFileSync(join(copy, 'src/b.ts'), 'utf8')).toBe('import { connect } from "./a";\nconnect(1);\nconnect(1);\n');
    expect(readFileSync(join(copy, 'src/crlf.ts'), 'utf8')).toBe('const a = 10;\r\nconst b = 20;\r\n');
    expect(readFileSync(join(copy, 'docs/read me.md'), 'utf8')).toBe('Spaces in the name\n');
    expect(readFileSync(join(copy, 'src/resume/session.ts'), 'utf8')).toBe('export const resume = true;\n');
  });

  it('answers an old text that is not found, or found more than once, with a tool error saying how to fix the call', async () => {
    const workspace = await open();
    expect(await refusal(call('edit', { path: 'src/a.ts', old_text: 'return close();', new_text: 'x' }, workspace))).toBe(
      'old_text was not found in src/a.ts. Read the lines again and copy the text exactly, whitespace included, then call edit again.',
    );
    expect(await refusal(call('edit', { path: 'src/a.ts', old_text: '6|   return connect();', new_text: 'x' }, workspace))).toContain('It seems to hold line numbers from read: leave them out.');
    expect(await refusal(call('edit', { path: 'src/b.ts', old_text: 'connect();', new_text: 'x' }, workspace))).toBe(
      'old_text was found 2 times in src/b.ts; include more of the surrounding lines so it matches once, or set replace_all to replace all 2.',
    );
    expect(await refusal(call('edit', { path: 'logo.png', old_text: 'PNG', new_text: 'x' }, workspace))).toBe('logo.png is binary; only text files can be edited.');
    expect((await workspace.outcome()).patch).toBe('');
  });

  it('reports a file changed on disk after Kimi read it, and carries its edits onto the file as it is now', async () => {
    const root = tree({ 'src/a.ts': A_TS, 'src/c.ts': 'const c = 1;\n' });
    const workspace = await Workspace.open({ folders: [root], from: 'the test' });
    await call('read', { path: 'src/a.ts' }, workspace);
    await call('read', { path: 'src/c.ts' }, workspace);
    await call('edit', { path: 'src/a.ts', old_text: '  return connect();', new_text: '  return connect({ resume: true });' }, workspace);
    // The user edits both files meanwhile.
    writeFileSync(join(root, 'src/a.ts'), `// the user's header\n${A_TS}`);
    writeFileSync(join(root, 'src/c.ts'), 'const c = 2;\n');
    const outcome = await workspace.outcome();
    expect(outcome.changed_on_disk).toEqual(['src/a.ts', 'src/c.ts']);
    expect(outcome.notes).toEqual(["src/a.ts changed on disk during the run; the patch is made against it as it is now, with Kimi's edits carried over."]);
    const copy = await gitCopy(root);
    await gitApply(copy, outcome.patch, false);
    expect(readFileSync(join(copy, 'src/a.ts'), 'utf8')).toBe(`// the user's header\n${A_TS.replace('  return connect();', '  return connect({ resume: true });')}`);
  });

  it('makes the patch against disk-now even when the edits no longer fit, and says so', async () => {
    const root = tree({ 'a.ts': 'one\ntwo\nthree\n' });
    const workspace = await Workspace.open({ folders: [root], from: 'the test' });
    await call('edit', { path: 'a.ts', old_text: 'two', new_text: 'TWO' }, workspace);
    writeFileSync(join(root, 'a.ts'), 'one\n2\nthree\n');
    const outcome = await workspace.outcome();
    expect(outcome.changed_on_disk).toEqual(['a.ts']);
    expect(outcome.notes[0]).toContain("a.ts changed on disk during the run and Kimi's edits no longer fit it; the patch is made against it as it is now");
    const copy = await gitCopy(root);
    await gitApply(copy, outcome.patch, true);
  });
});

describe('several roots', () => {
  it('names files of a later root by its folder name, reads and searches them, and edits only the first root', async () => {
    const second = tree({ 'lib/util.ts': 'export const reconnectDelay = 5;\n' }, 'kimi-agent-second-');
    const label = second.split('/').at(-1)!;
    const workspace = await Workspace.open({ folders: [project, second], from: 'the test' });
    expect((await call('list', {}, workspace)).output).toContain(`${label}/  (another project folder, ${second})`);
    expect((await call('grep', { pattern: 'reconnectDelay' }, workspace)).output).toBe(`${label}/lib/util.ts:1: export const reconnectDelay = 5;\n[1 match in 1 file]\n[skipped: 1 binary, 1 not readable]`);
    expect((await call('read', { path: `${label}/lib/util.ts` }, workspace)).output).toBe(`${label}/lib/util.ts: lines 1-1 of 1\n1| export const reconnectDelay = 5;`);
    expect((await call('list', { path: `${label}/lib` }, workspace)).output).toBe(`${label}/lib/ (1 entry):\nutil.ts`);
    expect((await call('list', { path: label }, workspace)).output).toBe(`${label}/ (1 entry):\nlib/`);
    const message = await refusal(call('edit', { path: `${label}/lib/util.ts`, old_text: '5', new_text: '6' }, workspace));
    expect(message).toBe(`Edits are made only in ${project}, where the patch applies; ${label}/lib/util.ts is in ${second}.`);
  });
});

describe('the output cap', () => {
  it('cuts any output past about 20K tokens at a line, saying how much was shown and how to get the rest', () => {
    const text = lines(5000, (i) => `line ${i} ${'some words here '.repeat(4)}`);
    const capped = capOutput(text);
    expect(estimateTextTokens(capped)).toBeLessThanOrEqual(OUTPUT_TOKEN_CAP);
    expect(capped).toMatch(/\n\[output cut at about 20K tokens: \d+ of 5001 lines shown; ask for less at a time \(a line range, a narrower glob or pattern\)\]$/);
    expect(capOutput('short')).toBe('short');
  });
});

describe('the guarantee: the workspace and its tools only read', () => {
  /** Modules the workspace may use, and of node:fs only what reads (node:vm runs grep's own fixed script, for its deadline). */
  const ALLOWED = /^(\.{1,2}\/|node:path$|node:crypto$|node:fs$|node:fs\/promises$|node:vm$|zod$|diff$|tinyglobby$)/;
  const FS_READS = new Set(['closeSync', 'constants', 'openSync', 'readSync', 'statSync', 'readdir', 'stat', 'Dirent', 'Stats']);
  /** Of our own modules (relative to src/): its own room, the shared errors, `files`' reading code and the token estimator. */
  const OURS = /^(agent\/.*|errors\.js|kimi\/files\/[a-z-]+\.js|kimi\/tokens\.js)$/;
  const agentFiles = readdirSync(join(ROOT, 'src/agent'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !/(^|\/)loop/.test(f));

  it.each(agentFiles)('src/agent/%s imports nothing that writes, runs a command or connects', (file) => {
    const text = readFileSync(join(ROOT, 'src/agent', file), 'utf8');
    for (const [, names, from] of text.matchAll(/^import (?:type )?(.*?) from '([^']+)';$/gms)) {
      expect(from, `${file} imports ${from}`).toMatch(ALLOWED);
      if (from!.startsWith('.')) expect(relative(join(ROOT, 'src'), join(ROOT, 'src/agent', file, '..', from!)), `${file} imports ${from}`).toMatch(OURS);
      if (from === 'node:fs' || from === 'node:fs/promises') {
        for (const name of names!.replace(/[{}]|type /g, '').split(',').map((n) => n.trim()).filter(Boolean)) expect(FS_READS, `${file} imports ${name} from ${from}`).toContain(name);
      }
    }
    expect(text).not.toMatch(/O_WRONLY|O_RDWR|O_CREAT|fetch\(|import\(/);
  });
});

describe('tool calls as the loop makes them', () => {
  it('turns unknown tools, tools of the other mode, malformed JSON and bad arguments into tool errors', async () => {
    const workspace = await open();
    const editInExplore = await callTool('edit', '{"path":"src/a.ts","old_text":"a","new_text":"b"}', workspace, 'explore');
    expect(editInExplore).toMatchObject({ error: true, output: 'Error: There is no tool "edit" in explore mode. edit is for propose mode only; Use one of: list, read, grep.' });
    expect(await callTool('read', '{"path": "src/a.ts"', workspace, 'explore')).toMatchObject({ error: true, output: expect.stringContaining('are not valid JSON') });
    expect(await callTool('read', '{"path": 7}', workspace, 'explore')).toMatchObject({ error: true, output: 'Error: Bad arguments for read: path: expected string, received number. Call it again with arguments that match its parameters.' });
    const refused = await callTool('read', '{"path": "../secret.txt"}', workspace, 'explore');
    expect(refused).toMatchObject({ error: true, step: expect.stringMatching(/^read \.\.\/secret\.txt → error: /) });
    expect(await callTool('read', '{"path": "src/a.ts:1-2"}', workspace, 'explore')).toMatchObject({ error: false, step: 'read src/a.ts:1-2' });
  });

  it('offers the read-only tools in explore mode and edit and write in propose mode, each with a JSON Schema', () => {
    expect(toolsFor('explore').map((t) => t.name)).toEqual(['list', 'read', 'grep']);
    expect(toolsFor('propose').map((t) => t.name)).toEqual(['list', 'read', 'grep', 'edit', 'write']);
    for (const t of AGENT_TOOLS) {
      expect(t.parameters).toMatchObject({ type: 'object', properties: expect.any(Object) });
      expect(t.parameters).not.toHaveProperty('$schema');
      expect(t.description.length).toBeLessThanOrEqual(160);
    }
  });
});
