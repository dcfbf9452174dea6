/** Builds the MCP server from a catalog and an environment; transports are chosen by the caller. */
import { McpServer } from '@modelcontextprotocol/server';
import type { Catalog } from '../catalog/load.js';
import { reportConfiguration, resolveSettings } from '../kimi/config.js';
import { pruneConversations } from '../kimi/conversation.js';
import type { Env } from '../kimi/config.js';
import { log } from '../log.js';
import { registerConversations } from './conversation-resource.js';
import { registerPrompts } from './prompts.js';
import { registerResources, SKILL_URI } from './resources.js';
import { ReplyStore } from './replies.js';
import { guardInbound } from './inbound.js';
import { clientRoots } from './roots.js';
import { registerTools } from './register-tools.js';
import { registerUsage } from './usage-resource.js';
import { createTools } from './tools/index.js';
import { firstTime } from '../once.js';
import { selectTools } from './tool-selection.js';
import { version } from '../version.js';
import { maxJobs, pruneJobs } from '../jobs/project.js';
import { processJobs } from '../jobs/runner.js';
import type { JobRunner } from '../jobs/runner.js';

/**
 * Once per process (an HTTP server builds a server per session or request): log bad configuration
 * and remove expired conversations in the background.
 */
export function onProcessStart(catalog: Catalog, env: Env): void {
  const settings = resolveSettings(catalog, env);
  reportConfiguration(settings);
  const jobsProblem = maxJobs(env).problem;
  if (jobsProblem && firstTime('KIMI_MAX_JOBS')) log(`configuration: ${jobsProblem}`);
  pruneConversations(env, settings.keepDays);
  pruneJobs(env, settings.keepDays);
}

export interface ServerOptions {
  /** The protocol era the server is built for (the SDK's serving entries tell); legacy by default. */
  era?: 'legacy' | 'modern';
  /** Long replies, shared by every server of an HTTP process so a later request can read them. */
  replies?: ReplyStore;
  /** Background jobs: one runner per process (KIMI_MAX_JOBS counts them all). */
  jobs?: JobRunner;
}

export function createServer(catalog: Catalog, env: Env, { era = 'legacy', replies = new ReplyStore(), jobs = processJobs }: ServerOptions = {}): McpServer {
  const settings = resolveSettings(catalog, env);
  const ctx = { catalog, settings, env, replies, jobs, era };
  const { tools, problems } = selectTools(env, createTools(ctx));
  if (problems.length && firstTime('KIMI_MCP_TOOLS')) problems.forEach((p) => log(p));
  const server = new McpServer(
    { name: 'kimi-mcp', version, title: 'Kimi' },
    {
      instructions: `Moonshot Kimi models via RunAPI or other OpenAI-compatible hosts. Usage guide: ${SKILL_URI}.`,
      // A finished background job is announced as a log message; 2026-07-28 has no logging.
      ...(era === 'legacy' ? { capabilities: { logging: {} } } : {}),
    },
  );
  registerTools(server, tools, clientRoots(server.server, env, era), { jobs, env, settings, era, replies });
  registerResources(server, catalog, tools, ctx.replies);
  registerConversations(server, env);
  registerUsage(server, env);
  registerPrompts(server);
  server.server.onerror = (e) => log('protocol error:', e.message);
  // Whatever the transport: requests with wrong params get -32602 naming the field, not -32603.
  const connect = server.connect.bind(server);
  server.connect = (transport) => (guardInbound(transport, era), connect(transport));
  return server;
}
