/** `kimi-mcp doctor`: each check says what is wrong and what to do; exit 1 if any fails. */
import type { ModelEntry, ProviderEntry } from '../catalog/load.js';
import { resolveHost } from '../kimi/config.js';
import { formatMoney } from '../kimi/cost.js';
import { ledgerFile } from '../state/ledger.js';
import { describeFailure, listLiveModels } from '../kimi/upstream.js';
import type { CliContext } from './context.js';

const MIN_NODE_MAJOR = 20;
const CHECK_TIMEOUT_MS = 10_000;

interface Check {
  ok: boolean;
  label: string;
  fix?: string;
}

/** Key, reachability and the model's presence on one host. */
async function hostChecks(cli: CliContext, provider: ProviderEntry, model: ModelEntry, role: string): Promise<Check[]> {
  const checks: Check[] = [];
  const host = resolveHost(provider, cli.env);
  checks.push({ ok: true, label: `${role} ${provider.id} (${host.baseURL ?? 'no base URL'}), model ${model.id}` });
  if (host.apiKey) checks.push({ ok: true, label: `key found in ${host.keyVar} (not shown)` });
  else if (!provider.key_optional) checks.push({ ok: false, label: 'no API key', fix: host.problem });

  if (host.baseURL && (host.apiKey || provider.key_optional)) {
    try {
      const ids = new Set((await listLiveModels(host, AbortSignal.timeout(CHECK_TIMEOUT_MS))).map((m) => m.id));
      checks.push({ ok: true, label: `${host.baseURL} answers (${ids.size} models listed)` });
      const wanted = provider.models[model.id]?.id;
      if (wanted === undefined) {
        const hosts = cli.catalog.providers.filter((p) => p.models[model.id]).map((p) => p.id);
        checks.push({ ok: false, label: `${provider.id} does not serve ${model.id}`, fix: `set KIMI_MODEL to a model it serves, or use one of: ${hosts.join(', ')}` });
      } else if (ids.has(wanted)) checks.push({ ok: true, label: `${wanted} is listed by the host` });
      else checks.push({ ok: false, label: `${wanted} is not in the host's model list`, fix: 'pick another model with KIMI_MODEL, or check your plan with the host' });
    } catch (e) {
      checks.push({ ok: false, label: `${host.baseURL} did not answer`, fix: describeFailure(e, host) });
    }
  } else if (host.baseURL) {
    try {
      await fetch(host.baseURL, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
      checks.push({ ok: true, label: `${host.baseURL} is reachable (add a key to check the model list)` });
    } catch (e) {
      checks.push({ ok: false, label: `${host.baseURL} is not reachable`, fix: `${(e as Error).message}; check the URL and your network` });
    }
  }
  return checks;
}

/** The spending guard's settings, as the user set them (problems are reported with the configuration). */
function spendingChecks(cli: CliContext): Check[] {
  const s = cli.settings.spending;
  const usd = (v: number | undefined) => (v === undefined ? 'off' : formatMoney(v, 'USD'));
  return [
    {
      ok: true,
      label: `spending guard: per call ${usd(s.maxPerCallUsd)}, budget ${s.budgetUsd === undefined ? 'off' : `${usd(s.budgetUsd)} per ${s.budgetPeriod}`}, confirm above ${usd(s.confirmAboveUsd)}; ledger ${ledgerFile(cli.env)}`,
    },
  ];
}

export async function runDoctor(cli: CliContext): Promise<number> {
  const checks: Check[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  checks.push(
    major >= MIN_NODE_MAJOR
      ? { ok: true, label: `Node ${process.versions.node}` }
      : { ok: false, label: `Node ${process.versions.node} is too old`, fix: `install Node ${MIN_NODE_MAJOR} or newer` },
  );
  checks.push({ ok: true, label: `skill files valid (${cli.catalog.models.length} models, ${cli.catalog.providers.length} hosts)` });
  for (const problem of cli.settings.problems) checks.push({ ok: false, label: 'configuration', fix: problem });

  const { provider, model } = cli.settings;
  checks.push(...(await hostChecks(cli, provider, model, 'host')));
  for (const fallback of cli.settings.fallback.filter((p) => p.id !== provider.id)) {
    checks.push(...(await hostChecks(cli, fallback, model, 'fallback host')));
  }
  checks.push(...spendingChecks(cli));

  for (const c of checks) cli.out(`${c.ok ? '✔' : '✘'} ${c.label}${c.fix ? `\n    → ${c.fix}` : ''}\n`);
  const failed = checks.filter((c) => !c.ok).length;
  cli.out(failed ? `${failed} problem${failed > 1 ? 's' : ''} found.\n` : 'All good.\n');
  return failed ? 1 : 0;
}
