/**
 * Which hosts accept tool calls (OpenAI function tools and tool history) for which models, as the
 * catalog says with its sources. Nobody having published it counts as "cannot": a request with
 * tools to such a host is refused before sending, naming the models and hosts that can.
 */
import type { ModelEntry, ProviderEntry } from '../catalog/load.js';
import type { CallContext } from './config.js';
import { requireOffer, requireProvider } from './catalog-view.js';
import { UsageError } from './errors.js';
import { modelFor } from './request.js';

/** The catalog's word: true or false with a source, or 'unknown'; undefined when the host does not serve the model. */
function toolCallsFact(provider: ProviderEntry, model: ModelEntry) {
  return provider.models[model.id]?.tool_calls;
}

export function acceptsTools(provider: ProviderEntry, model: ModelEntry): boolean {
  const fact = toolCallsFact(provider, model);
  return typeof fact === 'object' && fact.accepted;
}

/** Every model and host pair that accepts tool calls, models in catalog order (newest first). */
export function toolCapableOffers(ctx: CallContext): { model: string; providers: string[] }[] {
  return ctx.catalog.models
    .map((m) => ({ model: m.id, providers: ctx.catalog.providers.filter((p) => acceptsTools(p, m)).map((p) => p.id) }))
    .filter((o) => o.providers.length > 0);
}

/** "<model> on <host>, <host>; …" for refusals. */
function capableList(ctx: CallContext): string {
  const offers = toolCapableOffers(ctx);
  return offers.length ? offers.map((o) => `${o.model} on ${o.providers.join(', ')}`).join('; ') : 'none in this catalog';
}

/**
 * The model the agent uses on `provider` when the caller names none: the configured model when
 * the host accepts tools for it, else the first catalog model (newest first) it accepts them for.
 */
export function agentModelFor(ctx: CallContext, provider: ProviderEntry): ModelEntry | undefined {
  if (acceptsTools(provider, ctx.settings.model)) return ctx.settings.model;
  return ctx.catalog.models.find((m) => acceptsTools(provider, m));
}

/** The model and host the agent uses when the caller names none (on the configured host). */
export function defaultAgentModel(ctx: CallContext): { model: string; provider: string } | undefined {
  const provider = ctx.settings.provider;
  const model = agentModelFor(ctx, provider);
  return model ? { model: model.id, provider: provider.id } : undefined;
}

/** Throws a UsageError, before anything is sent, when `provider` does not accept tool calls for `model`, naming the models and hosts that do. */
export function requireToolSupport(ctx: CallContext, model: string, provider: string): void {
  const host = requireProvider(ctx.catalog, provider);
  const entry = modelFor(ctx, { model });
  requireOffer(ctx.catalog, entry, host);
  const fact = toolCallsFact(host, entry);
  if (typeof fact === 'object' && fact.accepted) return;
  const why =
    typeof fact === 'object'
      ? `${host.title} does not accept tool calls for ${entry.id} (${fact.source})`
      : `Whether ${host.title} accepts tool calls for ${entry.id} is not published, so it is not used for them`;
  throw new UsageError(`${why}. Nothing was sent. Models and hosts that accept tool calls: ${capableList(ctx)}. Name one as model, with its host as provider (or in KIMI_PROVIDER).`);
}

/** The model for a request with tools on `provider`: the one named, else the agent's default there; refused when none can. */
export function toolModelFor(ctx: CallContext, provider: ProviderEntry, modelName: string | undefined): ModelEntry {
  if (modelName !== undefined) return modelFor(ctx, { model: modelName });
  const model = agentModelFor(ctx, provider);
  if (!model) {
    throw new UsageError(`${provider.title} accepts tool calls for none of its models, as far as anyone published. Nothing was sent. Models and hosts that do: ${capableList(ctx)}. Name one as model, with its host as provider (or in KIMI_PROVIDER).`);
  }
  return model;
}
