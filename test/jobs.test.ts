/** The job store, recorder and runner (src/jobs), without MCP: files, states, throttling, the queue. */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobStore, maxJobs, projectKey } from '../src/jobs/project.js';
import { JobRecorder } from '../src/jobs/recorder.js';
import { JobRunner } from '../src/jobs/runner.js';
import type { JobOutcome, JobWork } from '../src/jobs/runner.js';
import { JobStore, newJobId } from '../src/jobs/store.js';
import { appendRecord } from '../src/state/jsonl.js';
import { THIS_PROCESS } from '../src/state/process-owner.js';
import { tempDir } from './helpers/temp.js';

const store = () => new JobStore(join(tempDir('kimi-jobs-unit-'), 'jobs'));
const lines = (s: JobStore, id: string) => readFileSync(s.file(id), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
const ok = (text: string): JobOutcome => ({ result: { content: [{ type: 'text', text }] }, failed: false });

/** A job whose work the test finishes by hand. */
function manual() {
  let finish!: (outcome: JobOutcome) => void;
  let work!: JobWork;
  let began!: () => void;
  const started = new Promise<void>((resolve) => (began = resolve));
  const run = (w: JobWork) => {
    work = w;
    began();
    return new Promise<JobOutcome>((resolve) => (finish = resolve));
  };
  return { run, started, finish: (o: JobOutcome) => finish(o), work: () => work };
}

describe('job files', () => {
  it('are 0600 in a 0700 folder; the view follows the lines: text so far (appended and started over), steps, the end', async () => {
    const s = store();
    const id = newJobId();
    await s.create({ id, tool: 'kimi_agent', label: 'find the bug', project: 'p' });
    expect(statSync(s.file(id)).mode & 0o777).toBe(0o600);
    expect(statSync(s.folder).mode & 0o777).toBe(0o700);
    await s.append(id, { type: 'started' });
    await s.append(id, { type: 'text', from: 0, text: 'Looking' });
    await s.append(id, { type: 'text', from: 7, text: ' at a.ts' });
    await s.append(id, { type: 'step', line: 'step 1/25: read a.ts' });
    await s.append(id, { type: 'text', from: 0, text: 'Now b.ts' });
    let view = (await s.read(id))!;
    expect(view).toMatchObject({ state: 'running', tool: 'kimi_agent', label: 'find the bug', text: 'Now b.ts', steps: ['step 1/25: read a.ts'] });
    await s.append(id, { type: 'end', state: 'done', result: { content: [{ type: 'text', text: 'It is in b.ts.' }] } });
    view = (await s.read(id))!;
    expect(view.state).toBe('done');
    expect(view.result).toEqual({ content: [{ type: 'text', text: 'It is in b.ts.' }] });
  });

  it('a job with no final line whose process is gone reads as interrupted, with what had arrived; a torn last line is skipped', async () => {
    const s = store();
    const id = newJobId();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await appendRecord(s.file(id), { type: 'job', v: 1, id, tool: 'kimi_chat', label: 'x', project: 'p', owner: { ...THIS_PROCESS, pid: dead, process: 'gone' }, created: new Date().toISOString() });
    await appendRecord(s.file(id), { type: 'started', at: new Date().toISOString() });
    await appendRecord(s.file(id), { type: 'text', at: new Date().toISOString(), from: 0, text: 'Half an ans' });
    appendFileSync(s.file(id), '{"type":"text","at":"2026-01-01","from":11,"te');
    const view = (await s.read(id))!;
    expect(view.state).toBe('interrupted');
    expect(view.text).toBe('Half an ans');
    expect(view.torn).toBe(1);
    expect(view.why).toMatch(/stopped before it finished/);
  });

  it('ids are checked before any path is built', async () => {
    const s = store();
    for (const bad of ['../ledger', 'ABCDEF0123456789', '0123', `${'a'.repeat(16)}/x`]) expect(() => s.file(bad)).toThrow(/is not a job id/);
    expect(await s.read('0123456789abcdef')).toBeUndefined();
  });

  it('list gives one project\'s jobs newest first; old files are pruned', async () => {
    const s = store();
    const ids: string[] = [];
    for (const project of ['p', 'q', 'p']) {
      const id = newJobId();
      ids.push(id);
      await s.create({ id, tool: 'kimi_chat', label: project, project });
      await new Promise((r) => setTimeout(r, 5));
    }
    expect((await s.list('p')).map((v) => v.id)).toEqual([ids[2], ids[0]]);
    const old = Date.now() / 1000 - 40 * 86_400;
    utimesSync(s.file(ids[0]!), old, old);
    expect(await s.removeOlderThan(30)).toBe(1);
    expect(existsSync(s.file(ids[0]!))).toBe(false);
    expect(await s.removeOlderThan(0)).toBe(0);
  });
});

describe('the recorder', () => {
  it('writes a fast stream at most every interval, only what is new, and all of it at the end', async () => {
    const s = store();
    const id = newJobId();
    await s.create({ id, tool: 'kimi_chat', label: '', project: 'p' });
    const recorder = new JobRecorder(s, id, 200);
    let text = '';
    for (let i = 0; i < 200; i++) {
      text += `word${i} `;
      recorder.record({ text, reasoning: '' });
    }
    await new Promise((r) => setTimeout(r, 50));
    recorder.record({ step: 'step 1/25: read a.ts' });
    text += 'the end';
    recorder.record({ text });
    await recorder.flush();
    const written = lines(s, id).filter((l) => l.type === 'text') as unknown as { from: number; text: string }[];
    expect(written.length).toBeLessThanOrEqual(3);
    // Each line carries only the new part.
    expect(written.reduce((n, l) => n + l.text.length, 0)).toBe(text.length);
    const view = (await s.read(id))!;
    expect(view.text).toBe(text);
    expect(view.steps).toEqual(['step 1/25: read a.ts']);
  });
});

describe('the runner', () => {
  const spec = (s: JobStore, run: (w: JobWork) => Promise<JobOutcome>, max = 1) => ({ store: s, tool: 'kimi_chat', label: 'l', project: 'p', max, run });

  it('runs at most max at once, queues the rest first come first served, and starts them as room frees', async () => {
    const s = store();
    const runner = new JobRunner();
    const a = manual();
    const b = manual();
    const first = await runner.submit(spec(s, a.run));
    const second = await runner.submit(spec(s, b.run));
    expect(first.state).toBe('running');
    expect(second).toMatchObject({ state: 'queued', position: 1 });
    expect(runner.get(second.id)).toEqual({ state: 'queued', position: 1 });
    await a.started;
    a.finish(ok('a done'));
    await runner.ended(first.id);
    await b.started;
    expect(runner.get(second.id)).toEqual({ state: 'running' });
    b.finish({ ...ok('b failed'), failed: true });
    await runner.ended(second.id);
    expect((await s.read(first.id))!.state).toBe('done');
    expect((await s.read(second.id))!.state).toBe('failed');
  });

  it('cancel takes a queued job off the queue and aborts a running one', async () => {
    const s = store();
    const runner = new JobRunner();
    const a = manual();
    const first = await runner.submit(spec(s, a.run));
    const second = await runner.submit(spec(s, () => Promise.reject(new Error('never runs'))));
    expect(runner.cancel(second.id)).toBe(true);
    await runner.ended(second.id);
    expect((await s.read(second.id))!).toMatchObject({ state: 'cancelled' });
    await a.started;
    a.work().signal.addEventListener('abort', () => a.finish(ok('partial')));
    runner.cancel(first.id);
    await runner.ended(first.id);
    expect((await s.read(first.id))!).toMatchObject({ state: 'cancelled', result: ok('partial').result });
    expect(runner.cancel(first.id)).toBe(false);
  });

  it('stopAll ends every job as interrupted with why; a withdrawn job leaves no file', async () => {
    const s = store();
    const runner = new JobRunner();
    const a = manual();
    const running = await runner.submit(spec(s, a.run, 1));
    const queued = await runner.submit(spec(s, () => Promise.reject(new Error('never runs')), 1));
    await a.started;
    a.work().record({ text: 'what arrived' });
    a.work().signal.addEventListener('abort', () => a.finish(ok('what arrived')));
    await runner.stopAll('the client went away', 2_000);
    expect((await s.read(running.id))!).toMatchObject({ state: 'interrupted', why: 'the client went away', text: 'what arrived' });
    expect((await s.read(queued.id))!).toMatchObject({ state: 'interrupted' });

    const w = manual();
    const withdrawn = await runner.submit(spec(s, w.run));
    await w.started;
    runner.withdraw(withdrawn.id, s);
    w.finish(ok('refused'));
    await runner.ended(withdrawn.id);
    expect(existsSync(s.file(withdrawn.id))).toBe(false);
  });
});

describe('settings and scope', () => {
  it('KIMI_MAX_JOBS takes a positive whole number; anything else is reported and the default used', () => {
    expect(maxJobs({})).toEqual({ value: 4 });
    expect(maxJobs({ KIMI_MAX_JOBS: '2' })).toEqual({ value: 2 });
    for (const bad of ['0', '-1', '2.5', 'many', '1e3']) expect(maxJobs({ KIMI_MAX_JOBS: bad })).toEqual({ value: 4, problem: `KIMI_MAX_JOBS="${bad}" is not a positive whole number; using 4.` });
  });

  it('the project key ignores order and repeats; HTTP scopes get folders of their own', () => {
    expect(projectKey(['/a', '/b'])).toBe(projectKey(['/b', '/a', '/a/']));
    expect(projectKey(['/a'])).not.toBe(projectKey(['/a', '/b']));
    const stateDir = tempDir('kimi-jobs-scope-');
    expect(jobStore({ KIMI_MCP_STATE_DIR: stateDir }).folder).toBe(join(stateDir, 'jobs'));
    expect(jobStore({ KIMI_MCP_STATE_DIR: stateDir, KIMI_MCP_CONVERSATION_SCOPE: 'http-abc' }).folder).toBe(join(stateDir, 'jobs', 'http-abc'));
  });
});
