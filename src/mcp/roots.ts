/**
 * The folders `files` may come from, as the MCP client sees them: on a legacy connection whose
 * client declares roots, its roots (asked once, asked again after notifications/roots/
 * list_changed); otherwise (modern clients, which have no roots, or no roots capability) the
 * server's working directory plus KIMI_MCP_ROOTS. A client that declares roots but gives no
 * usable list is refused, never widened to the server's folders. The call path gets plain folders.
 */
import { fileURLToPath } from 'node:url';
import type { Server } from '@modelcontextprotocol/server';
import type { Env } from '../kimi/config.js';
import { defaultRoots, SERVER_FOLDERS } from '../kimi/files/roots.js';
import type { AllowedFolders, RootsSource } from '../kimi/messages.js';
import { UsageError } from '../kimi/errors.js';
import { log, scrub } from '../log.js';

/** A root's folder on this machine: file:// URIs with no host or localhost; others name nothing we can read. */
function localFolder(uri: string): string[] {
  if (!URL.canParse(uri)) return [];
  const url = new URL(uri);
  if (url.protocol !== 'file:' || (url.hostname !== '' && url.hostname !== 'localhost')) return [];
  return [fileURLToPath(url)];
}

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
    let listed: { uri: string }[];
    try {
      ({ roots: listed } = await server.listRoots(undefined, { timeout: ROOTS_TIMEOUT_MS }));
    } catch (e) {
      // Not kept: the next call asks the client again.
      cached = undefined;
      log('roots/list failed:', e);
      throw new UsageError(`Not sent: the client declares roots but did not list them (${scrub((e as Error).message).slice(0, 200)}), so no folder may be read. Try again, or check the client's roots setting.`);
    }
    const folders = listed.flatMap((r) => localFolder(r.uri));
    if (folders.length) return { folders, from: "the client's roots" };
    cached = undefined;
    const shown = listed.map((r) => r.uri).slice(0, 5).join(', ') || 'none';
    throw new UsageError(`Not sent: the client's roots name no folder on this machine (${shown}), so no folder may be read. Add a local folder (file:///path) to the client's roots.`);
  }

  return () => (cached ??= ask());
}
