/** The model list: the catalog, optionally checked against the host's own `GET /models`. */
import { resolveHost } from './config.js';
import { requireProvider, viewModels } from './catalog-view.js';
import type { ModelView } from './catalog-view.js';
import type { CallContext } from './config.js';
import { describeFailure, listLiveModels } from './upstream.js';

export interface LiveCheck {
  provider: string;
  /** Every ID the host listed that looks like a Kimi model (the catalog may lag behind). */
  kimi_ids: string[];
  error?: string;
}

export interface ModelList {
  models: ModelView[];
  live?: LiveCheck;
}

export async function listModels(
  ctx: CallContext,
  req: { provider?: string; live?: boolean },
  signal?: AbortSignal,
): Promise<ModelList> {
  const models = viewModels(ctx.catalog, req.provider);
  if (!req.live) return { models };

  const provider = req.provider ? requireProvider(ctx.catalog, req.provider) : ctx.settings.provider;
  const host = resolveHost(provider, ctx.env);
  const live: LiveCheck = { provider: provider.id, kimi_ids: [] };
  if (!provider.models_endpoint) live.error = `${provider.title} has no /models endpoint.`;
  else if (host.problem) live.error = host.problem;
  else {
    try {
      const ids = new Set((await listLiveModels(host, signal)).map((m) => m.id));
      live.kimi_ids = [...ids].filter((id) => /kimi/i.test(id)).sort();
      for (const m of models) for (const h of m.hosts) if (h.provider === provider.id) h.listed = ids.has(h.model_id);
    } catch (e) {
      live.error = describeFailure(e, host);
    }
  }
  return { models, live };
}
