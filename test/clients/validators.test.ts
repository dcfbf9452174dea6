/** The packaging validators the ecosystem uses: mcpb for the bundle, skills-ref for the skill. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/mcp.js';
import { runProcess } from '../helpers/process.js';
import { clientBin } from './paths.js';
import { tempDir, copySkill } from '../helpers/temp.js';

const env = { PATH: process.env.PATH, HOME: tmpdir() };

describe('packaging validators', () => {
  it('mcpb validates manifest.json', async () => {
    const r = await runProcess(clientBin('mcpb'), ['validate', join(ROOT, 'manifest.json')], { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Manifest schema validation passes/);
  });

  it('skills-ref validates the skill as installed (folder named after the skill)', async () => {
    const dir = copySkill(join(tempDir('kimi-skill-'), 'kimi'));
    const r = await runProcess(clientBin('skillsRef'), ['validate', dir], { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Valid skill/);
  });
});
