/**
 * Loads SKILL.md and skill/references/**.md, validates every frontmatter and builds the catalog.
 * All problems are collected and reported together, each with its file and field, so a broken
 * skill fails at start-up with a message that says exactly what to fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import matter from 'gray-matter';
import type * as z from 'zod';
import { modelSchema, noteSchema, providerSchema, skillSchema } from './schema.js';
import type { Model, Note, Provider, SkillFrontmatter } from './schema.js';
import { CatalogError } from './error.js';
import { referenceFiles, SKILL_FILE } from './files.js';

/** Where a fact came from: the file (relative to the skill root) and its full text. */
export interface SourceFile {
  path: string;
  text: string;
}

export type ModelEntry = Model & { file: SourceFile };
export type ProviderEntry = Provider & { file: SourceFile };
export type NoteEntry = Note & { file: SourceFile };

export interface Catalog {
  root: string;
  skill: SkillFrontmatter & { file: SourceFile };
  models: ModelEntry[];
  providers: ProviderEntry[];
  notes: NoteEntry[];
  defaultModel: ModelEntry;
  defaultProvider: ProviderEntry;
}

export { CatalogError };


/** Strict Agent Skills validators reject YAML flow collections (`{…}`, `[…]`); we do too. */
function flowCollectionLines(frontmatter: string): number[] {
  return frontmatter
    .split('\n')
    .flatMap((line, i) => (/^\s*(-\s*|[\w.-]+:\s*)[[{]/.test(line) ? [i + 2] : []));
}

/**
 * "field: problem". A value that fits none of a union's forms (a price is per token or a plan's)
 * is described by the form it came closest to, so the field named is the one to fix.
 */
function describeIssue(issue: z.core.$ZodIssue, parent: PropertyKey[] = []): string {
  const path = [...parent, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
    if (closest.length > 0) return closest.map((i) => describeIssue(i, path)).join('; ');
  }
  const field = path.length > 0 ? path.join('.') : '(frontmatter)';
  return `${field}: ${issue.message}`;
}

const schemasByKind = { model: modelSchema, provider: providerSchema, note: noteSchema } as const;

export function loadCatalog(root: string): Catalog {
  const problems: string[] = [];
  const models: ModelEntry[] = [];
  const providers: ProviderEntry[] = [];
  const notes: NoteEntry[] = [];
  let skill: Catalog['skill'] | undefined;

  const parse = (absPath: string): { data: Record<string, unknown>; file: SourceFile } | undefined => {
    const path = relative(root, absPath).split(sep).join('/');
    const text = readFileSync(absPath, 'utf8');
    let parsed: matter.GrayMatterFile<string>;
    try {
      parsed = matter(text, { language: 'yaml' }); // passing options also turns off gray-matter's content cache, whose hits lack .matter
    } catch (e) {
      problems.push(`${path}: the YAML frontmatter does not parse: ${(e as Error).message.split('\n')[0]}`);
      return undefined;
    }
    if (Object.keys(parsed.data).length === 0) {
      problems.push(`${path}: no YAML frontmatter (expected a --- block at the top)`);
      return undefined;
    }
    for (const line of flowCollectionLines(parsed.matter)) {
      problems.push(`${path}:${line}: inline {…} or […] collection; write it as a block (one "- item" or "key: value" per line)`);
    }
    return { data: parsed.data, file: { path, text } };
  };

  const skillPath = join(root, SKILL_FILE);
  if (!existsSync(skillPath)) problems.push(`${SKILL_FILE}: missing in ${root}`);
  else {
    const doc = parse(skillPath);
    if (doc) {
      const result = skillSchema.safeParse(doc.data);
      if (result.success) skill = { ...result.data, file: doc.file };
      else problems.push(...result.error.issues.map((i) => `${doc.file.path}: ${describeIssue(i)}`));
    }
  }

  for (const absPath of referenceFiles(root)) {
    const doc = parse(absPath);
    if (!doc) continue;
    const kind = doc.data.kind;
    if (kind !== 'model' && kind !== 'provider' && kind !== 'note') {
      problems.push(`${doc.file.path}: kind: expected "model", "provider" or "note", got ${JSON.stringify(kind)}`);
      continue;
    }
    const result = schemasByKind[kind].safeParse(doc.data);
    if (!result.success) {
      problems.push(...result.error.issues.map((i) => `${doc.file.path}: ${describeIssue(i)}`));
      continue;
    }
    if (kind === 'model') models.push({ ...(result.data as Model), file: doc.file });
    else if (kind === 'provider') providers.push({ ...(result.data as Provider), file: doc.file });
    else notes.push({ ...(result.data as Note), file: doc.file });
  }

  problems.push(...crossCheck(models, providers, notes));
  const defaultModel = models.find((m) => m.default);
  const defaultProvider = providers.find((p) => p.default);
  if (problems.length > 0 || !skill || !defaultModel || !defaultProvider) throw new CatalogError(problems);

  // Newest model first (an unknown release date last); the default host first, then hosts with a
  // fixed URL, then self-hosted.
  const released = (m: Model) => (m.released === 'unknown' ? '' : m.released);
  models.sort((a, b) => released(b).localeCompare(released(a)));
  const hostRank = (p: Provider) => (p.default ? 0 : p.base_url ? 1 : 2);
  providers.sort((a, b) => hostRank(a) - hostRank(b) || a.id.localeCompare(b.id));
  return { root, skill, models, providers, notes, defaultModel, defaultProvider };
}

function crossCheck(models: ModelEntry[], providers: ProviderEntry[], notes: NoteEntry[]): string[] {
  const problems: string[] = [];
  for (const group of [models, providers, notes]) {
    const seen = new Map<string, string>();
    for (const entry of group) {
      const earlier = seen.get(entry.id);
      if (earlier) problems.push(`${entry.file.path}: id: "${entry.id}" is already used by ${earlier}`);
      seen.set(entry.id, entry.file.path);
    }
  }
  const known = new Map(models.map((m) => [m.id, m]));
  for (const p of providers) {
    for (const [modelId, offer] of Object.entries(p.models)) {
      const model = known.get(modelId);
      if (!model) problems.push(`${p.file.path}: models.${modelId}: unknown model (known: ${[...known.keys()].join(', ')})`);
      // The spending guard bounds a call's output by the window; without one, money has no ceiling.
      else if (model.context_window === 'unknown' && !('plan' in offer.price)) {
        problems.push(`${p.file.path}: models.${modelId}.price: ${modelId} has no known context_window, so a per-token price has no worst case; only a plan may cover it`);
      }
    }
  }
  for (const [label, group] of [['model', models], ['provider', providers]] as const) {
    const defaults = group.filter((e) => e.default);
    if (defaults.length !== 1) {
      const where = defaults.length === 0 ? 'none has' : `${defaults.map((d) => d.file.path).join(' and ')} all have`;
      problems.push(`exactly one ${label} file needs "default: true"; ${where} it`);
    }
  }
  return problems;
}
