/** Lookups in a loaded catalog; apart from the loader so that using a catalog never loads YAML or zod. */
import type { Catalog, ModelEntry, ProviderEntry } from './load.js';

export function findModel(catalog: Catalog, id: string): ModelEntry | undefined {
  return catalog.models.find((m) => m.id === id);
}

export function findProvider(catalog: Catalog, id: string): ProviderEntry | undefined {
  return catalog.providers.find((p) => p.id === id);
}
