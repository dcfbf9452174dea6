/**
 * Resources: the skill files themselves (the single source of truth, served as written), each
 * tool's JSON Schema (generated from the same zod schemas the tools use) and a pricing table.
 */
import { ResourceNotFoundError, ResourceTemplate } from '@modelcontextprotocol/server';
import type { McpServer } from '@modelcontextprotocol/server';
import type { Catalog, SourceFile } from '../catalog/load.js';
import { isPlanPrice } from '../kimi/cost.js';
import { jsonSchemaOf } from './json-schema.js';
import type { ReplyStore } from './replies.js';
import { outputJsonSchema } from './tool.js';
import type { KimiTool } from './tool.js';

export const SKILL_URI = 'kimi://skill';
export const PRICING_URI = 'kimi://pricing';

interface Collection {
  name: string;
  title: string;
  /** URI segment and template variable, e.g. models / model. */
  segment: string;
  variable: string;
  mimeType: string;
  entries: () => { id: string; title: string; text: () => string }[];
}

function markdown(file: SourceFile) {
  return () => file.text;
}

export function schemaDocument(tool: KimiTool): Record<string, unknown> {
  return {
    tool: tool.name,
    input: jsonSchemaOf(tool.input, 'input'),
    output: outputJsonSchema(tool),
  };
}

export function pricingTable(catalog: Catalog): string {
  const rows = catalog.models.flatMap((m) =>
    catalog.providers.flatMap((p) => {
      const entry = p.models[m.id];
      if (!entry) return [];
      const { price } = entry;
      const amounts = isPlanPrice(price) ? `no money: ${price.plan} | | | ` : `${price.input} | ${price.cached_input} | ${price.output} | ${price.currency}`;
      return [`| ${m.id} | ${p.id} | \`${entry.id}\` | ${amounts} | ${price.source} | ${price.as_of} |`];
    }),
  );
  return [
    '# Kimi prices per 1M tokens',
    '',
    'Generated from the frontmatter of skill/references/providers/*.md. `unknown` means no price was published; none is guessed. "no money" marks a host whose membership plan covers calls instead of tokens.',
    '',
    '| Model | Host | Host model ID | Input | Cached input | Output | Currency | Source | As of |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

export function registerResources(server: McpServer, catalog: Catalog, tools: readonly KimiTool[], replies: ReplyStore): void {
  server.registerResource(
    'skill',
    SKILL_URI,
    { title: 'Kimi skill (SKILL.md)', description: 'When and how to use the Kimi tools.', mimeType: 'text/markdown' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: catalog.skill.file.text }] }),
  );
  server.registerResource(
    'pricing',
    PRICING_URI,
    { title: 'Kimi prices', description: 'Every host and model with its price source and date.', mimeType: 'text/markdown' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: pricingTable(catalog) }] }),
  );

  const collections: Collection[] = [
    {
      name: 'model',
      title: 'Kimi model reference',
      segment: 'models',
      variable: 'model',
      mimeType: 'text/markdown',
      entries: () => catalog.models.map((m) => ({ id: m.id, title: m.title, text: markdown(m.file) })),
    },
    {
      name: 'provider',
      title: 'Kimi host reference',
      segment: 'providers',
      variable: 'provider',
      mimeType: 'text/markdown',
      entries: () => catalog.providers.map((p) => ({ id: p.id, title: p.title, text: markdown(p.file) })),
    },
    {
      name: 'note',
      title: 'Kimi usage note',
      segment: 'notes',
      variable: 'note',
      mimeType: 'text/markdown',
      entries: () => catalog.notes.map((n) => ({ id: n.id, title: n.title, text: markdown(n.file) })),
    },
    {
      name: 'schema',
      title: 'Tool JSON Schema',
      segment: 'schemas',
      variable: 'tool',
      mimeType: 'application/schema+json',
      entries: () =>
        tools.map((t) => ({ id: t.name, title: `${t.title}: input and output schema`, text: () => JSON.stringify(schemaDocument(t), null, 2) })),
    },
    {
      name: 'reply',
      title: 'A long Kimi reply, in full',
      segment: 'replies',
      variable: 'id',
      mimeType: 'text/markdown',
      entries: () => replies.list().map((r) => ({ id: r.id, title: r.title, text: () => r.text })),
    },
  ];

  for (const c of collections) {
    const template = new ResourceTemplate(`kimi://${c.segment}/{${c.variable}}`, {
      list: async () => ({
        resources: c.entries().map((e) => ({ uri: `kimi://${c.segment}/${e.id}`, name: e.id, title: e.title, mimeType: c.mimeType })),
      }),
      complete: { [c.variable]: (value: string) => c.entries().map((e) => e.id).filter((id) => id.startsWith(value)) },
    });
    server.registerResource(c.name, template, { title: c.title, mimeType: c.mimeType }, async (uri, variables) => {
      const wanted = String(variables[c.variable]);
      const entry = c.entries().find((e) => e.id === wanted);
      if (!entry) {
        const known = c.entries().map((e) => e.id).join(', ');
        throw new ResourceNotFoundError(uri.href, `No ${c.name} "${wanted}". Known: ${known}.`);
      }
      return { contents: [{ uri: uri.href, mimeType: c.mimeType, text: entry.text() }] };
    });
  }
}
