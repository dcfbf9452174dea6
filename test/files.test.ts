/** Files for Kimi (src/kimi/files): selection, confinement to the roots, ranges, limits, format. */
import { linkSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/kimi/errors.js';
import { confine, defaultRoots, readFiles } from '../src/kimi/files/index.js';
import type { FileSet } from '../src/kimi/files/index.js';
import { isInside } from '../src/kimi/files/roots.js';
import { imageDataUrl } from '../src/kimi/images.js';
import { estimateTextTokens } from '../src/kimi/tokens.js';
import { tempDir } from './helpers/temp.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
const SECRET = 'TOP SECRET';

/** A temp folder holding `files` (relative path → content). */
function tree(files: Record<string, string | Buffer>, prefix = 'kimi-files-'): string {
  const root = tempDir(prefix);
  const folders = new Set(Object.keys(files).map((rel) => dirname(join(root, rel))));
  for (const folder of folders) mkdirSync(folder, { recursive: true });
  for (const [rel, content] of Object.entries(files)) writeFileSync(join(root, rel), content);
  return root;
}

/** The message of the UsageError `run` must fail with. */
async function refusal(run: Promise<unknown>): Promise<string> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as UsageError).message;
}

const paths = (set: FileSet) => set.files.map((f) => f.path);

const twelveLines = Array.from({ length: 12 }, (_, i) => (i === 9 ? '' : `line ${i + 1}`)).join('\n') + '\n';

const project = tree({
  '.gitignore': 'dist/\n*.log\n',
  'src/a.ts': 'export const a = 1;\n',
  'src/b.ts': 'export const b = 2;\n',
  'src/a.test.ts': 'test();\n',
  'src/util/c.ts': 'export const c = 3;\n',
  'src/gen/.gitignore': '*.gen.ts\n!keep.gen.ts\n',
  'src/gen/x.gen.ts': 'generated\n',
  'src/gen/keep.gen.ts': 'kept\n',
  'dist/out.js': 'built\n',
  'debug.log': 'log\n',
  'node_modules/pkg/index.ts': 'dependency\n',
  '.git/HEAD': 'ref: refs/heads/main\n',
  '.git/hooks/x.ts': 'hook\n',
  '.github/ci.yml': 'on: push\n',
  'README.md': 'Use ```ts fences``` and ````four```` too.\n',
  'logo.png': PNG,
  'latin1.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9]),
  'app/[id]/page.tsx': 'export default function Page() {}\n',
  'time:12.txt': 'a name with a colon\n',
  'lines.ts': twelveLines,
});

const outside = tree({ 'secret.txt': `${SECRET}\n`, 'pic.png': PNG }, 'kimi-outside-');

/** A root whose symlinks lead inside (link-in.ts) and out (a file and a folder). */
const linked = tree({ 'src/a.ts': 'inside\n' }, 'kimi-linked-');
symlinkSync(join(linked, 'src/a.ts'), join(linked, 'link-in.ts'));
symlinkSync(join(outside, 'secret.txt'), join(linked, 'link-out.txt'));
symlinkSync(outside, join(linked, 'linkdir'), 'dir');

describe('selection', () => {
  it('a glob sends exactly the expected files in path order; binaries are skipped and reported', async () => {
    const set = await readFiles(['**/*'], [project]);
    expect(paths(set)).toEqual(['README.md', 'app/[id]/page.tsx', 'lines.ts', 'src/a.test.ts', 'src/a.ts', 'src/b.ts', 'src/gen/keep.gen.ts', 'src/util/c.ts', 'time:12.txt']);
    expect(set.skipped).toEqual([
      { path: 'latin1.txt', reason: 'binary' },
      { path: 'logo.png', reason: 'binary' },
    ]);
  });

  it('never reads .git or node_modules from a glob, even one naming them; dot folders only when named', async () => {
    expect(paths(await readFiles(['.*/**'], [project]))).toEqual(['.github/ci.yml']);
    expect(paths(await readFiles(['.github'], [project]))).toEqual(['.github/ci.yml']);
    expect(await refusal(readFiles(['node_modules/**'], [project]))).toContain('"node_modules/**" matched no files');
    expect(await refusal(readFiles(['.git/**'], [project]))).toContain('matched no files');
    expect(await refusal(readFiles(['**/index.ts'], [project]))).toContain('matched no files');
    expect(await refusal(readFiles(['**/*.yml'], [project]))).toContain('matched no files');
  });

  it('a folder expands like folder/**, with root and nested .gitignore applied', async () => {
    expect(paths(await readFiles(['src'], [project]))).toEqual(['src/a.test.ts', 'src/a.ts', 'src/b.ts', 'src/gen/keep.gen.ts', 'src/util/c.ts']);
    expect(await refusal(readFiles(['dist'], [project]))).toContain('.gitignore');
  });

  it('.gitignore does not apply to files named explicitly', async () => {
    expect(paths(await readFiles(['dist/out.js', 'debug.log', 'src/gen/x.gen.ts'], [project]))).toEqual(['dist/out.js', 'debug.log', 'src/gen/x.gen.ts']);
  });

  it('"!" entries exclude (relative ones like git, absolute ones in their root)', async () => {
    expect(paths(await readFiles(['src', '!*.test.ts', '!./src/gen/'], [project]))).toEqual(['src/a.ts', 'src/b.ts', 'src/util/c.ts']);
    expect(paths(await readFiles(['src/*.ts', `!${join(project, 'src/b.ts')}`], [project]))).toEqual(['src/a.test.ts', 'src/a.ts']);
    expect(await refusal(readFiles(['src/a.ts', '!src/a.ts'], [project]))).toMatch(/^No file to send: the "!" entries excluded every match/);
  });

  it('keeps the order of the entries and sends a file reached twice once, where it came first', async () => {
    expect(paths(await readFiles(['src/util/c.ts', 'src/*.ts', 'src/a.ts'], [project]))).toEqual(['src/util/c.ts', 'src/a.test.ts', 'src/a.ts', 'src/b.ts']);
    expect(paths(await readFiles(['src/a.ts', 'src/*.ts'], [project]))).toEqual(['src/a.ts', 'src/a.test.ts', 'src/b.ts']);
  });

  it('reads names that look like globs or ranges when they exist as they are', async () => {
    expect(paths(await readFiles(['app/[id]/page.tsx', 'time:12.txt'], [project]))).toEqual(['app/[id]/page.tsx', 'time:12.txt']);
    expect(paths(await readFiles(['app/[id]'], [project]))).toEqual(['app/[id]/page.tsx']);
  });

  it('refuses a glob with no match, a path that does not exist, a named binary, and a call left with no file', async () => {
    const noMatch = await refusal(readFiles(['**/*.py'], [project]));
    expect(noMatch).toContain(`"**/*.py" matched no files in ${project}`);
    expect(await refusal(readFiles(['src/nope.ts'], [project]))).toContain('src/nope.ts does not exist');
    expect(await refusal(readFiles(['logo.png'], [project]))).toMatch(/logo\.png is binary.*images/);
    expect(await refusal(readFiles(['*.png'], [project]))).toContain('No file to send: every match was skipped (logo.png: binary)');
  });
});

describe('the block sent for each file', () => {
  it('is a heading and a fenced block with the text as is, and counts its tokens', async () => {
    const [file] = (await readFiles(['src/a.ts'], [project])).files;
    expect(file!.block).toBe('File `src/a.ts`:\n```ts\nexport const a = 1;\n```');
    expect(file!.tokens).toBe(estimateTextTokens(file!.block));
  });

  it('uses a fence longer than any backtick run inside, and no language when the extension is unknown', async () => {
    const [readme, named] = (await readFiles(['README.md', 'time:12.txt'], [project])).files;
    expect(readme!.block).toBe('File `README.md`:\n`````md\nUse ```ts fences``` and ````four```` too.\n`````');
    expect(named!.block).toBe('File `time:12.txt`:\n```\na name with a colon\n```');
  });
});

describe('line ranges', () => {
  const block = async (spec: string) => (await readFiles([spec], [project])).files[0]!.block;

  it('sends only those lines, numbered and right-aligned', async () => {
    expect(await block('lines.ts:9-11')).toBe('File `lines.ts` (lines 9-11 of 12):\n```ts\n 9| line 9\n10|\n11| line 11\n```');
    expect(await block('lines.ts:12')).toBe('File `lines.ts` (line 12 of 12):\n```ts\n12| line 12\n```');
    expect(await block('lines.ts:11-')).toBe('File `lines.ts` (lines 11-12 of 12):\n```ts\n11| line 11\n12| line 12\n```');
  });

  it('sends two ranges of one file as two excerpts', async () => {
    const set = await readFiles(['lines.ts:1-2', 'lines.ts:11-12', 'lines.ts:1-2'], [project]);
    expect(set.files.map((f) => f.block.split('\n')[0])).toEqual(['File `lines.ts` (lines 1-2 of 12):', 'File `lines.ts` (lines 11-12 of 12):']);
  });

  it('clamps a range past the end', async () => {
    expect(await block('lines.ts:10-99')).toMatch(/^File `lines.ts` \(lines 10-12 of 12\):/);
  });

  it('refuses line 0, a reversed range, a start past the end, a range on a glob or a folder', async () => {
    expect(await refusal(readFiles(['lines.ts:0-3'], [project]))).toContain('line numbers start at 1');
    expect(await refusal(readFiles(['lines.ts:5-2'], [project]))).toContain('the range ends before it starts');
    expect(await refusal(readFiles(['lines.ts:20'], [project]))).toContain('lines.ts has 12 lines; line 20 is past the end');
    expect(await refusal(readFiles(['src/*.ts:1-2'], [project]))).toContain('not a glob');
    expect(await refusal(readFiles(['src:1-2'], [project]))).toContain('is a folder');
  });
});

describe('confinement to the roots', () => {
  const outsideFile = join(outside, 'secret.txt');

  async function refusedNamingRoot(specs: string[], root = linked): Promise<void> {
    const message = await refusal(readFiles(specs, [root]));
    expect(message).toContain(root);
    expect(message).toContain('KIMI_MCP_ROOTS');
    expect(message).not.toContain(SECRET);
  }

  it('refuses ../, an absolute path elsewhere and a file:// URI outside', async () => {
    await refusedNamingRoot([`../${basename(outside)}/secret.txt`]);
    await refusedNamingRoot([outsideFile]);
    await refusedNamingRoot([pathToFileURL(outsideFile).href]);
    expect(paths(await readFiles([pathToFileURL(join(project, 'src/a.ts')).href], [project]))).toEqual(['src/a.ts']);
  });

  it('refuses a symlinked file or folder that points out', async () => {
    await refusedNamingRoot(['link-out.txt']);
    await refusedNamingRoot(['linkdir']);
    await refusedNamingRoot(['linkdir/secret.txt']);
    await refusedNamingRoot(['linkdir/*']); // the crawl would list a folder outside
  });

  it('skips symlinks a glob finds when they point out, and reads those that point inside', async () => {
    const set = await readFiles(['**'], [linked]);
    expect(paths(set)).toEqual(['src/a.ts']);
    expect(set.skipped).toEqual([
      { path: 'link-out.txt', reason: 'symlink outside the roots' },
      { path: 'linkdir', reason: 'symlink outside the roots' },
    ]);
  });

  it('refuses globs that climb out or lie elsewhere, and takes absolute globs inside a root', async () => {
    expect(await refusal(readFiles(['../*'], [linked]))).toContain(linked);
    expect(await refusal(readFiles(['{..,src}/*'], [linked]))).toContain('may not climb out');
    expect(await refusal(readFiles([`${outside}/*.txt`], [linked]))).toContain(linked);
    expect(await refusal(readFiles(['src/a.ts', `!${outside}/*.txt`], [linked]))).toContain(linked);
    expect(paths(await readFiles([`${project}/src/*.ts`], [project]))).toEqual(['src/a.test.ts', 'src/a.ts', 'src/b.ts']);
  });

  it('confine returns real paths inside the roots, also for a file that does not exist yet', async () => {
    const real = realpathSync(project);
    expect(await confine('src/a.ts', [project])).toBe(join(real, 'src/a.ts'));
    expect(await confine('new.png', [project])).toBe(join(real, 'new.png'));
    expect(await refusal(confine('linkdir/new.png', [linked]))).toContain(linked);
  });

  it('never resolves outside the root, whatever path is built from .., links and names', async () => {
    const realRoot = realpathSync(linked);
    const segment = fc.constantFrom('..', '.', 'src', 'a.ts', 'link-in.ts', 'link-out.txt', 'linkdir', 'secret.txt', basename(outside), 'nope');
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.boolean(), async (segments, absolute) => {
        const path = absolute ? join(linked, ...segments) : segments.join('/');
        const confined = await confine(path, [linked]).catch((e: unknown) => e);
        if (confined instanceof UsageError) expect(confined.message).toContain(linked);
        else expect(isInside(confined as string, realRoot)).toBe(true);
        const read = await readFiles([path], [linked]).catch((e: unknown) => e);
        if (read instanceof UsageError) expect(read.message).not.toContain(SECRET);
        else for (const file of (read as FileSet).files) expect(file.block).not.toContain(SECRET);
      }),
      { numRuns: 150 },
    );
  });
});

describe('roots', () => {
  const first = tree({ 'src/x.ts': 'x\n', 'shared.ts': 'from the first root\n' });
  const other = join(tempDir('kimi-two-'), 'other-repo');
  mkdirSync(join(other, 'src'), { recursive: true });
  writeFileSync(join(other, 'src/y.ts'), 'y\n');
  writeFileSync(join(other, 'shared.ts'), 'from the second root\n');
  writeFileSync(join(other, 'only.ts'), 'only\n');

  it('matches a relative glob in every root, naming files after the first root by its folder', async () => {
    expect(paths(await readFiles(['src/*.ts'], [first, other]))).toEqual(['src/x.ts', 'other-repo/src/y.ts']);
  });

  it('excludes a file of a later root by the name it is shown under, too', async () => {
    expect(paths(await readFiles(['src/*.ts', '!other-repo/src/y.ts'], [first, other]))).toEqual(['src/x.ts']);
  });

  it('resolves a relative path in the first root where it exists', async () => {
    const set = await readFiles(['shared.ts', 'only.ts'], [first, other]);
    expect(paths(set)).toEqual(['shared.ts', 'other-repo/only.ts']);
    expect(set.files[0]!.block).toContain('from the first root');
  });

  it('ignores a root that does not exist, and refuses when none does', async () => {
    expect(paths(await readFiles(['src/x.ts'], [join(first, 'missing'), first]))).toEqual(['src/x.ts']);
    expect(await refusal(readFiles(['src/x.ts'], [join(first, 'missing')]))).toContain('None of the folders this call may read from exists');
  });

  it('defaults to the working directory plus KIMI_MCP_ROOTS', () => {
    const cwd = join(first, 'work');
    expect(defaultRoots({}, cwd)).toEqual([cwd]);
    expect(defaultRoots({ KIMI_MCP_ROOTS: ['/srv/a', '', 'rel/b', ''].join(delimiter) }, cwd)).toEqual([cwd, '/srv/a', join(cwd, 'rel/b')]);
  });
});

describe('limits', () => {
  it('refuses a file over the size limit, naming its size, before reading it', async () => {
    const root = tree({ 'big.json': Buffer.alloc(Math.round(3.1 * 1024 * 1024), 0x20), 'small.ts': 'x'.repeat(300) });
    expect(await refusal(readFiles(['big.json'], [root]))).toContain('big.json is 3.1 MB; the limit is 2.0 MB per file');
    expect(await refusal(readFiles(['*.ts'], [root], { maxFileBytes: 100 }))).toContain('small.ts is 300 bytes; the limit is 100 bytes per file. Leave it out with a "!" entry');
  });

  it('refuses more than 2,000 files in one call', async () => {
    // Hard links: distinct paths (which is what counts), made far faster than 2,001 files.
    const root = tree(Object.fromEntries(Array.from({ length: 20 }, (_, d) => [`d${d}/f${d}.txt`, 'x'])));
    for (let i = 20; i < 2001; i++) linkSync(join(root, 'd0/f0.txt'), join(root, `d${i % 20}/f${i}.txt`));
    expect(await refusal(readFiles(['**/*.txt'], [root]))).toContain('2001 files matched; one call reads at most 2000. Narrow the globs');
  });

  it('reads 500 files quickly, in path order', async () => {
    const names = Array.from({ length: 500 }, (_, i) => `m${i % 10}/file${String(i).padStart(3, '0')}.ts`);
    const root = tree(Object.fromEntries(names.map((n) => [n, `export const v = ${n.length};\n`.repeat(20)])));
    const started = performance.now();
    const set = await readFiles(['**/*.ts'], [root]);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(paths(set)).toEqual([...names].sort());
  });
});

describe('images with roots', () => {
  it('refuses an image path or file:// URI outside the roots, and reads one inside', async () => {
    const picture = join(outside, 'pic.png');
    const allowed = { folders: [project], from: "the client's roots" };
    const refused = await refusal(imageDataUrl(picture, undefined, allowed));
    // The refusal names the folders and where they came from, so the fix is clear.
    expect(refused).toContain(`${project}: the client's roots`);
    expect(refused).toContain("add its folder to the client's roots");
    expect(await refusal(imageDataUrl(pathToFileURL(picture).href, undefined, allowed))).toContain(project);
    expect(await imageDataUrl('logo.png', undefined, allowed)).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
  });

  it('keeps reading any path when no roots are given', async () => {
    expect(await imageDataUrl(join(outside, 'pic.png'))).toMatch(/^data:image\/png;base64,/);
  });
});
