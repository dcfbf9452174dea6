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
  // With the key in order, what is left to fix is the base URL (not a URL, or holding credentials).
  if (host.problem && (host.apiKey || provider.key_optional)) checks.push({ ok: false, label: 'base URL', fix: host.problem });

  if (host.baseURL && !host.problem) {
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
  } else if (host.baseURL && !host.apiKey && !provider.key_optional) {
    try {
      await fetch(host.baseURL, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
      checks.push({ ok: true, label: `${host.baseURL} is reachable (add a key to check the model list)` });
    } catch (e) {
      checks.push({ ok: false, label: `${host.baseURL} is not reachable`, fix: `${(e as Error).message}; check the URL and your network` });
    }
  }
  return checks;
}

/**
 * The spending guard's settings, as the user set them; an unreadable limit fails the check with
 * what to write instead, since the guard then refuses every call.
 */
function spendingChecks(cli: CliContext): Check[] {
  const s = cli.settings.spending;
  const unreadable = (name: string) => s.invalid.some((i) => i.name === name);
  const usd = (name: string, v: number | undefined) => (unreadable(name) ? 'UNREADABLE' : v === undefined ? 'off' : formatMoney(v, 'USD'));
  const budget = unreadable('KIMI_BUDGET_USD') ? 'UNREADABLE' : s.budgetUsd === undefined ? 'off' : `${usd('KIMI_BUDGET_USD', s.budgetUsd)} per ${unreadable('KIMI_BUDGET_PERIOD') ? 'UNREADABLE period' : s.budgetPeriod}`;
  return [
    {
      ok: s.invalid.length === 0,
      label: `spending guard${s.invalid.length ? ' REFUSES EVERY CALL' : ''}: per call ${usd('KIMI_MAX_COST_PER_CALL_USD', s.maxPerCallUsd)}, budget ${budget}, confirm above ${usd('KIMI_CONFIRM_ABOVE_USD', s.confirmAboveUsd)}; ledger ${ledgerFile(cli.env)}`,
      ...(s.invalid.length ? { fix: s.invalid.map((i) => i.problem).join('\n    → ') } : {}),
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
  // Unreadable spending limits are shown with the guard they turn into a refusal of every call.
  const shownWithGuard = new Set(cli.settings.spending.invalid.map((i) => i.problem));
  for (const problem of cli.settings.problems.filter((p) => !shownWithGuard.has(p))) checks.push({ ok: false, label: 'configuration', fix: problem });

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
