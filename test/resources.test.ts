import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ERAS, ROOT } from './helpers/mcp.js';
import type { AnyClient } from './helpers/mcp.js';

// Every era: the 2025 handshake, 2026-07-28 pinned, and negotiated by server/discover.
describe.each(ERAS)('resources (%s)', (era) => {
  let client: AnyClient;
  let close: () => Promise<void>;
  beforeAll(async () => ({ client, close } = await connect({}, {}, era)));
  afterAll(() => close());

  async function read(uri: string): Promise<{ text: string; mimeType?: string }> {
    const { contents } = await client.readResource({ uri });
    const [first] = contents;
    return { text: first && 'text' in first ? String(first.text) : '', mimeType: first?.mimeType };
  }

  it('lists SKILL.md, pricing and every model, host, note and tool schema, each with a title and mimeType', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toEqual(expect.arrayContaining([
      'kimi://skill', 'kimi://pricing',
      'kimi://models/kimi-k3', 'kimi://models/kimi-k2.7-code', 'kimi://models/kimi-k2.6', 'kimi://models/kimi-k2.5',
      'kimi://providers/runapi', 'kimi://providers/moonshot', 'kimi://providers/moonshot-cn', 'kimi://providers/openrouter',
      'kimi://providers/together', 'kimi://providers/nvidia', 'kimi://providers/fireworks', 'kimi://providers/custom',
      'kimi://notes/streaming', 'kimi://notes/thinking', 'kimi://notes/errors', 'kimi://notes/protocol-bridges',
      'kimi://schemas/list_models', 'kimi://schemas/estimate_cost',
    ]));
    for (const r of resources) {
      expect(r.title, r.uri).toBeTruthy();
      expect(r.mimeType, r.uri).toMatch(/^(text\/markdown|application\/schema\+json)$/);
    }
  });

  it('offers templates for models, hosts, notes, schemas, long replies and conversations', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual(
      ['kimi://conversations/{id}', 'kimi://models/{model}', 'kimi://notes/{note}', 'kimi://providers/{provider}', 'kimi://replies/{id}', 'kimi://schemas/{tool}'],
    );
  });

  it('every listed resource reads, with the mimeType it was listed with', async () => {
    const { resources } = await client.listResources();
    for (const r of resources) {
      const { text, mimeType } = await read(r.uri);
      expect(text.length, r.uri).toBeGreaterThan(50);
      expect(mimeType, r.uri).toBe(r.mimeType);
    }
  });

  it('serves the skill files exactly as written', async () => {
    expect((await read('kimi://skill')).text).toBe(readFileSync(join(ROOT, 'SKILL.md'), 'utf8'));
    expect((await read('kimi://models/kimi-k3')).text).toBe(readFileSync(join(ROOT, 'skill/references/models/kimi-k3.md'), 'utf8'));
  });

  it('serves each tool schema as the very schema tools/list advertises', async () => {
    const { tools } = await client.listTools();
    for (const tool of tools) {
      const doc = JSON.parse((await read(`kimi://schemas/${tool.name}`)).text) as { input: unknown; output: unknown };
      expect(doc.input).toEqual(tool.inputSchema);
      expect(doc.output).toEqual(tool.outputSchema);
    }
  });

  it('has a pricing table with every price, its source and its date', async () => {
    const { text } = await read('kimi://pricing');
    expect(text).toMatch(/\| kimi-k2\.6 \| runapi \| `kimi-k2\.6` \| 0\.48 \| 0\.08 \| 2 \| USD \| .*runapi\.ai.* \| 2026-11-23 \|/);
    expect(text).toMatch(/\| kimi-k3 \| runapi \| `kimi-k3` \| unknown \| unknown \| unknown \|/);
  });

  it('answers an unknown model with the list of known ones', async () => {
    await expect(client.readResource({ uri: 'kimi://models/kimi-k9' })).rejects.toThrow(/No model "kimi-k9"\. Known: kimi-k3\.1-pro, kimi-k3, /);
  });

  it('completes template variables', async () => {
    const r = await client.complete({ ref: { type: 'ref/resource', uri: 'kimi://models/{model}' }, argument: { name: 'model', value: 'kimi-k2' } });
    expect(r.completion.values).toEqual(['kimi-k2.7-code', 'kimi-k2.6', 'kimi-k2.5']);
  });
});
