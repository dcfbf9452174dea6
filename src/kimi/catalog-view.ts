/**
 * The catalog as the tools present it: per model, its limits and each host's ID and price.
 * Shared by list_models, the pricing resource and the CLI.
 */
import { findProvider } from '../catalog/find.js';
import type { Catalog, ModelEntry, ProviderEntry } from '../catalog/load.js';
import type { Deprecation, Model, Price } from '../catalog/schema.js';
import { UsageError } from './errors.js';

export interface HostOffer {
  provider: string;
  model_id: string;
  price: Price;
  /** The host lists the model as deprecated: still callable, but on its way out. */
  deprecated?: Deprecation;
  /** Present after a live check: whether the host's own /models list has this ID. */
  listed?: boolean;
}

export interface ModelView {
  id: string;
  title: string;
  /** `unknown` where nobody published it: the host enforces its own limit. */
  context_window: Model['context_window'];
  max_output: Model['max_output'];
  modalities: string[];
  thinking: { default: Model['thinking']['default']; switchable: boolean; effort?: string[] };
  hosts: HostOffer[];
}

export function offersFor(catalog: Catalog, model: ModelEntry, only?: ProviderEntry): HostOffer[] {
  return catalog.providers
    .filter((p) => !only || p.id === only.id)
    .flatMap((p) => {
      const entry = p.models[model.id];
      return entry ? [{ provider: p.id, model_id: entry.id, price: entry.price, ...(entry.deprecated ? { deprecated: entry.deprecated } : {}) }] : [];
    });
}

export function viewModels(catalog: Catalog, providerId?: string): ModelView[] {
  const only = providerId ? requireProvider(catalog, providerId) : undefined;
  return catalog.models
    .map((m) => ({
      id: m.id,
      title: m.title,
      context_window: m.context_window,
      max_output: m.max_output,
      modalities: m.modalities,
      thinking: { default: m.thinking.default, switchable: m.thinking.switchable, ...(m.thinking.effort ? { effort: m.thinking.effort } : {}) },
      hosts: offersFor(catalog, m, only),
    }))
    .filter((m) => m.hosts.length > 0);
}

export function requireProvider(catalog: Catalog, id: string): ProviderEntry {
  const p = findProvider(catalog, id);
  if (!p) throw new UsageError(`Unknown provider "${id}". Use one of: ${catalog.providers.map((x) => x.id).join(', ')}.`);
  return p;
}

/** The host's entry for a model, or an error naming the hosts that do serve it. */
export function requireOffer(catalog: Catalog, model: ModelEntry, provider: ProviderEntry): { id: string; price: Price } {
  const entry = provider.models[model.id];
  if (entry) return entry;
  const elsewhere = offersFor(catalog, model).map((o) => o.provider);
  throw new UsageError(`${provider.id} does not serve ${model.id}. Hosts that do: ${elsewhere.join(', ')}. Pass one as provider.`);
}
