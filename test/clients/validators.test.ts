/** The packaging validators the ecosystem uses: mcpb for the bundle, skills-ref for the skill. */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/mcp.js';
import { runProcess } from '../helpers/process.js';
import { clientBin } from './paths.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const env = { PATH: process.env.PATH, HOME: tmpdir() };

describe('packaging validators', () => {
  it('mcpb validates manifest.json', async () => {
    const r = await runProcess(clientBin('mcpb'), ['validate', join(ROOT, 'manifest.json')], { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Manifest schema validation passes/);
  });

  it('skills-ref validates the skill as installed (folder named after the skill)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kimi-skill-')), 'kimi');
    dirs.push(dir);
    mkdirSync(dir);
    cpSync(join(ROOT, 'SKILL.md'), join(dir, 'SKILL.md'));
    cpSync(join(ROOT, 'skill'), join(dir, 'skill'), { recursive: true });
    const r = await runProcess(clientBin('skillsRef'), ['validate', dir], { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Valid skill/);
  });
});
