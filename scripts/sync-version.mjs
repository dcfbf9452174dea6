// `npm version` runs this: every manifest takes package.json's version, so one number is used
// everywhere (test/manifests.test.ts checks that they agree).
import { readFileSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const pin = (args) => args.map((a) => (a.startsWith('kimi-mcp@') ? `kimi-mcp@${version}` : a));

function editJson(path, edit) {
  const data = JSON.parse(readFileSync(path, 'utf8'));
  edit(data);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}

editJson('.claude-plugin/plugin.json', (d) => (d.version = version));
editJson('.claude-plugin/marketplace.json', (d) => d.plugins.forEach((p) => (p.version = version)));
editJson('.codex-plugin/plugin.json', (d) => (d.version = version));
editJson('gemini-extension.json', (d) => {
  d.version = version;
  for (const s of Object.values(d.mcpServers)) s.args = pin(s.args);
});
editJson('.mcp.json', (d) => {
  for (const s of Object.values(d.mcpServers)) s.args = pin(s.args);
});
editJson('manifest.json', (d) => (d.version = version));
editJson('server.json', (d) => {
  d.version = version;
  d.packages.forEach((p) => (p.version = version));
});
const skill = readFileSync('SKILL.md', 'utf8');
writeFileSync('SKILL.md', skill.replace(/^(\s+version: )"[^"]*"$/m, `$1"${version}"`));
console.log(`manifests set to ${version}`);
