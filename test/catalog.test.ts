import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CatalogError, loadCatalog } from '../src/catalog/load.js';
import { ROOT } from './helpers/mcp.js';
import { copySkill } from './helpers/temp.js';

const catalog = loadCatalog(ROOT);

describe('the skill catalog', () => {
  it('holds the six Kimi models, the nine hosts and the notes, newest model first (an unknown release last)', () => {
    expect(catalog.models.map((m) => m.id)).toEqual(['kimi-k3.1-pro', 'kimi-k3', 'kimi-k2.7-code', 'kimi-k2.6', 'kimi-k2.5', 'kimi-for-coding']);
    expect(catalog.providers.map((p) => p.id).sort()).toEqual(
      ['custom', 'fireworks', 'kimi-code', 'moonshot', 'moonshot-cn', 'nvidia', 'openrouter', 'runapi', 'together'].sort(),
    );
    expect(catalog.providers[0]!.id).toBe('runapi');
    expect(catalog.defaultModel.id).toBe('kimi-k2.6');
    expect(catalog.notes.map((n) => n.id).sort()).toEqual(['errors', 'protocol-bridges', 'streaming', 'thinking']);
  });

  it('carries the model rules the call path will enforce', () => {
    const k3 = catalog.models.find((m) => m.id === 'kimi-k3')!;
    const code = catalog.models.find((m) => m.id === 'kimi-k2.7-code')!;
    const k26 = catalog.models.find((m) => m.id === 'kimi-k2.6')!;
    expect([k3.max_output, code.max_output]).toEqual([131072, 32768]);
    expect(k3.modalities).toEqual(['text']);
    expect(code.thinking.switchable).toBe(false);
    expect(k26.sampling).toEqual({ temperature_thinking: 1, temperature_instant: 0.6, top_p: 0.95 });
    expect(k26.modalities).toContain('image');
  });

  it('gives every price a source and a date, and RunAPI kimi-k2.6 its published price', () => {
    const runapi = catalog.providers.find((p) => p.id === 'runapi')!;
    expect(runapi.models['kimi-k2.6']!.price).toMatchObject({ input: 0.48, cached_input: 0.08, output: 2, currency: 'USD' });
    for (const p of catalog.providers) {
      for (const entry of Object.values(p.models)) {
        expect(entry.price.source.length).toBeGreaterThan(5);
        expect(entry.price.as_of).toMatch(/^\d{4}-\d{2}/);
      }
    }
  });

  it('serves kimi-k3.1-pro on Moonshot alone, at its sourced price, with its window and effort knob; no guessed limits', () => {
    const k31 = catalog.models.find((m) => m.id === 'kimi-k3.1-pro')!;
    expect(k31).toMatchObject({ released: '2026-10-23', context_window: 1_048_576, max_output: 'unknown', output_cap_field: 'max_completion_tokens' });
    expect(k31.thinking).toMatchObject({ effort: ['low', 'high', 'max'], preserved: true });
    expect(k31.sampling).toBeUndefined(); // nobody published it: the host judges temperature
    expect(k31.sources.join(' ')).toMatch(/neurolink.*platform\.kimi\.ai/);
    const hosts = catalog.providers.filter((p) => p.models['kimi-k3.1-pro']).map((p) => p.id);
    expect(hosts).toEqual(['moonshot']);
    expect(catalog.providers.find((p) => p.id === 'moonshot')!.models['kimi-k3.1-pro']!.price).toEqual({
      input: 2, cached_input: 0.2, output: 10, currency: 'USD', source: expect.stringMatching(/neurolink/), as_of: '2026-09-29',
    });
  });

  it('marks kimi-k2.5 deprecated where Moonshot says so, and only there, with its source', () => {
    const offers = catalog.providers.filter((p) => p.models['kimi-k2.5']).map((p) => [p.id, p.models['kimi-k2.5']!.deprecated?.source ?? null]);
    expect(offers.filter(([, d]) => d !== null)).toEqual([['moonshot', expect.stringMatching(/deprecated list/)]]);
    expect(offers.length).toBeGreaterThan(1); // still served, here and elsewhere
    expect(catalog.models.find((m) => m.id === 'kimi-k2.5')!.file.text).toMatch(/Deprecated on Moonshot/);
  });

  it('has a kimi-code host whose plan covers kimi-for-coding, and RunAPI takes no reasoning controls', () => {
    const code = catalog.providers.find((p) => p.id === 'kimi-code')!;
    expect(code).toMatchObject({ base_url: 'https://api.kimi.com/coding/v1', key_env: ['KIMI_CODE_API_KEY'], prompt_cache_key: true });
    expect(code.models['kimi-for-coding']).toMatchObject({ id: 'kimi-for-coding', price: { plan: expect.stringMatching(/Kimi Code/), source: expect.stringMatching(/kimi\.com\/code/) } });
    expect(catalog.models.find((m) => m.id === 'kimi-for-coding')).toMatchObject({ context_window: 'unknown', max_output: 'unknown', thinking: { default: 'unknown' } });
    expect(catalog.providers.filter((p) => p.reasoning_effort).map((p) => p.id)).toEqual(['moonshot']);
    expect(catalog.providers.find((p) => p.id === 'runapi')!.reasoning_effort).toBe(false);
  });

  it('says per host and model whether tool calls are accepted, with a source; unknown where nobody published it', () => {
    const facts = Object.fromEntries(catalog.providers.map((p) => [p.id, Object.fromEntries(Object.entries(p.models).map(([m, o]) => [m, o.tool_calls === 'unknown' ? 'unknown' : o.tool_calls.accepted]))]));
    expect(facts.runapi).toEqual({ 'kimi-k3': false, 'kimi-k2.7-code': false, 'kimi-k2.6': true, 'kimi-k2.5': true });
    expect(Object.values(facts.moonshot!).every((v) => v === true)).toBe(true);
    expect(Object.values(facts['moonshot-cn']!).every((v) => v === true)).toBe(true);
    for (const host of ['together', 'fireworks', 'openrouter', 'nvidia', 'custom', 'kimi-code']) expect(Object.values(facts[host]!).every((v) => v === 'unknown')).toBe(true);
    for (const p of catalog.providers) {
      for (const offer of Object.values(p.models)) {
        if (offer.tool_calls !== 'unknown') expect(offer.tool_calls.source).toMatch(p.id === 'runapi' ? /runapi-ai\/kimi README, commit ea934a7/ : /research refresh §4/);
      }
    }
  });

  it('SKILL.md follows the Agent Skills rules strict validators apply', () => {
    expect(catalog.skill.name).toBe('kimi');
    expect(catalog.skill.description.length).toBeLessThan(1024);
    expect(catalog.skill.metadata.openclaw.primaryEnv).toBe('RUNAPI_KEY');
    expect(catalog.skill.metadata.openclaw.requires.env).toContain('RUNAPI_KEY');
  });
});

describe('nothing about models, hosts or prices is written in src/', () => {
  // The simulator plays a Kimi host, so it knows the host's rules on its own: an oracle that read
  // our catalog would agree with our mistakes.
  const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.startsWith('simulator'),
  );
  it.each(files)('%s', (file) => {
    const text = readFileSync(join(ROOT, 'src', file), 'utf8');
    expect(text).not.toMatch(/kimi-k\d/);
    expect(text).not.toMatch(/https?:\/\/[a-z0-9-]+\.[a-z]{2,}/); // a real host name, like a provider's
    expect(text).not.toMatch(/RUNAPI_|MOONSHOT_|runapi\.ai|moonshot\.(ai|cn)/i);
  });
});

describe('broken skill files fail at load, naming the file and the field', () => {
  /** A copy of the real skill with one file edited. */
  function brokenCopy(file: string, edit: (text: string) => string): string {
    const dir = copySkill();
    const path = join(dir, file);
    const before = readFileSync(path, 'utf8');
    const after = edit(before);
    expect(after).not.toBe(before); // the fixture really changed something
    writeFileSync(path, after);
    return dir;
  }

  function loadError(dir: string): string {
    try {
      loadCatalog(dir);
    } catch (e) {
      expect(e).toBeInstanceOf(CatalogError);
      return (e as Error).message;
    }
    throw new Error('the broken catalog loaded');
  }

  const cases: [string, string, (t: string) => string, RegExp][] = [
    ['a number written as text', 'skill/references/models/kimi-k3.md', (t) => t.replace('context_window: 1048576', 'context_window: big'),
      /skill\/references\/models\/kimi-k3\.md: context_window: .*expected number/],
    ['a misspelt field', 'skill/references/models/kimi-k2.5.md', (t) => t.replace('max_output:', 'max_ouput:'),
      /kimi-k2\.5\.md: .*(max_ouput|max_output)/],
    ['a price that is neither a number nor unknown', 'skill/references/providers/runapi.md', (t) => t.replace('input: 0.48', 'input: cheap'),
      /providers\/runapi\.md: models\.kimi-k2\.6\.price\.input/],
    ['a plan price without its plan', 'skill/references/providers/kimi-code.md', (t) => t.replace(/\n\s+plan: .*/, ''),
      /kimi-code\.md: models\.kimi-for-coding\.price\.plan/],
    ['a per-token price for a model whose window nobody published', 'skill/references/providers/kimi-code.md',
      (t) => t.replace(/plan: .*/, 'input: 1\n      cached_input: 1\n      output: 1\n      currency: USD'),
      /kimi-code\.md: models\.kimi-for-coding\.price: kimi-for-coding has no known context_window, so a per-token price has no worst case/],
    ['a limit written as neither a number nor unknown', 'skill/references/models/kimi-k3.1-pro.md', (t) => t.replace('max_output: unknown', 'max_output: lots'),
      /kimi-k3\.1-pro\.md: max_output: .*expected number/],
    ['a price without a source', 'skill/references/providers/fireworks.md', (t) => t.replace(/\n\s+source: LiteLLM fireworks_ai\/accounts\/fireworks\/models\/kimi-k2p5/, ''),
      /fireworks\.md: models\.kimi-k2\.5\.price\.source/],
    ['a tool-calls fact without its source', 'skill/references/providers/runapi.md', (t) => t.replace(/\n\s+source: "runapi-ai\/kimi README, commit ea934a7: RunAPI takes basic text only[^\n]*/, ''),
      /providers\/runapi\.md: models\.kimi-k3\.tool_calls\.source/],
    ['an offer that does not say whether the host takes tool calls for it', 'skill/references/providers/together.md', (t) => t.replace(/\n\s+tool_calls: unknown/, ''),
      /together\.md: models\.kimi-k2\.7-code\.tool_calls/],
    ['tool-call support written as neither a fact nor unknown', 'skill/references/providers/nvidia.md', (t) => t.replace('tool_calls: unknown', 'tool_calls: yes'),
      /nvidia\.md: models\.kimi-k2\.6\.tool_calls/],
    ['a host naming a model the catalog lacks', 'skill/references/providers/nvidia.md', (t) => t.replace('  kimi-k2.5:\n', '  kimi-k9:\n'),
      /nvidia\.md: models\.kimi-k9: unknown model \(known: .*kimi-k2\.6.*\)/],
    ['an inline YAML list in SKILL.md', 'SKILL.md', (t) => t.replace(/env:\n\s+- RUNAPI_KEY/, 'env: [RUNAPI_KEY]'),
      /SKILL\.md:\d+: inline \{…\} or \[…\] collection/],
    ['an over-long skill description', 'SKILL.md', (t) => t.replace(/^description: (.*)$/m, (_m, d: string) => `description: ${d} ${'x'.repeat(1024)}`),
      /SKILL\.md: description: .*1024/],
    ['a top-level key the Agent Skills spec does not allow', 'SKILL.md', (t) => t.replace('license: MIT', 'license: MIT\nhomepage: https://example.com'),
      /SKILL\.md: .*homepage/],
    ['a second default model', 'skill/references/models/kimi-k3.md', (t) => t.replace('title: Kimi K3\n', 'title: Kimi K3\ndefault: true\n'),
      /exactly one model file needs "default: true"; .*kimi-k2\.6\.md and .*kimi-k3\.md all have it/],
    ['a file without frontmatter', 'skill/references/thinking.md', (t) => t.replace(/^---[\s\S]*?---\n/, ''),
      /thinking\.md: no YAML frontmatter/],
    ['YAML that does not parse', 'skill/references/errors.md', (t) => t.replace('title: Errors and what to do', 'title: [unclosed'),
      /errors\.md: the YAML frontmatter does not parse/],
    ['an unknown kind', 'skill/references/streaming.md', (t) => t.replace('kind: note', 'kind: recipe'),
      /streaming\.md: kind: expected "model", "provider" or "note", got "recipe"/],
  ];

  it.each(cases)('%s', (_label, file, edit, expected) => {
    expect(loadError(brokenCopy(file, edit))).toMatch(expected);
  });

  it('reports every problem at once, not just the first', () => {
    const dir = brokenCopy('skill/references/models/kimi-k3.md', (t) => t.replace('context_window: 1048576', 'context_window: big').replace('top_p: 0.95', 'top_p: 3'));
    const message = loadError(dir);
    expect(message).toMatch(/context_window/);
    expect(message).toMatch(/sampling\.top_p/);
  });
});
