/**
 * The folders `files` may come from, as the MCP client sees them: on a legacy connection whose
 * client declares roots, its roots (asked once, asked again after notifications/roots/
 * list_changed); otherwise (modern clients, which have no roots, or no roots capability) the
 * server's working directory plus KIMI_MCP_ROOTS. The call path gets plain folders.
 */
import { fileURLToPath } from 'node:url';
import type { Server } from '@modelcontextprotocol/server';
import type { Env } from '../kimi/config.js';
import { defaultRoots, SERVER_FOLDERS } from '../kimi/files/roots.js';
import type { AllowedFolders, RootsSource } from '../kimi/messages.js';
import { log } from '../log.js';

/** A client that declares roots but never answers must not hold a call for long. */
const ROOTS_TIMEOUT_MS = 10_000;

export function clientRoots(server: Server, env: Env, era: 'legacy' | 'modern'): RootsSource {
  const fallback = (why: string): AllowedFolders => ({ folders: defaultRoots(env, process.cwd()), from: `${SERVER_FOLDERS}, ${why}` });
  if (era === 'modern') return async () => fallback('as 2026-07-28 clients give no roots');
  let cached: Promise<AllowedFolders> | undefined;
  server.setNotificationHandler('notifications/roots/list_changed', () => {
    cached = undefined;
  });

  async function ask(): Promise<AllowedFolders> {
    if (!server.getClientCapabilities()?.roots) return fallback('as the client declares no roots');
    try {
      const { roots } = await server.listRoots(undefined, { timeout: ROOTS_TIMEOUT_MS });
      const folders = roots.filter((r) => r.uri.startsWith('file://')).map((r) => fileURLToPath(r.uri));
      if (folders.length) return { folders, from: "the client's roots" };
      log('the client declares roots but listed no file:// folder; using the working directory and KIMI_MCP_ROOTS');
      return fallback('as the client listed no file:// root');
    } catch (e) {
      // Not kept: the next call asks the client again.
      cached = undefined;
      log('roots/list failed, so this call is confined to the working directory and KIMI_MCP_ROOTS:', e);
      return fallback('as the client did not list its roots');
    }
  }

  return () => (cached ??= ask());
}
