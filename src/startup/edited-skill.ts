/**
 * The start-up snapshot for a skill edited since the build (dist/edited.js). Its fingerprint no
 * longer fits, so the skill is loaded and validated now, as the full server would do it (a broken
 * edit fails loudly, naming file and field), and tools/list is made from it by the tools' own
 * schemas; what else the build's snapshot holds (initialize) does not depend on the skill. No MCP
 * SDK is loaded: requests other than initialize, ping and tools/list go to the full server, which
 * is handed the catalog loaded here. The build-time catalog is never used (its fingerprint does
 * not fit), so offline and chat calls are handed over too.
 */
import { loadCatalog } from '../catalog/load.js';
import type { Catalog } from '../catalog/load.js';
import { resolveSettings } from '../kimi/config.js';
import { ReplyStore } from '../mcp/replies.js';
import { toolDefinition } from '../mcp/tool.js';
import { createTools } from '../mcp/tools/index.js';
import type { StartupSnapshot } from './snapshot.js';

/** The snapshot, and the catalog it was made from (for the full server, which then need not load it again). */
export function snapshotForEditedSkill(built: StartupSnapshot, root: string, hash: string, env: NodeJS.ProcessEnv): { snapshot: StartupSnapshot; catalog: Catalog } {
  const catalog = loadCatalog(root);
  const tools = createTools({ catalog, settings: resolveSettings(catalog, env), env, replies: new ReplyStore() });
  return { snapshot: { ...built, skillHash: hash, tools: tools.map(toolDefinition) }, catalog };
}
