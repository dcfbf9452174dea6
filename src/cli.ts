/**
 * `kimi-mcp`: with no arguments, the stdio MCP server (what agents spawn).
 * Subcommands arrive with the install issue; unknown ones get a usage line, never a crash.
 */
import { CatalogError } from './catalog/load.js';
import { log } from './log.js';
import { runStdioServer } from './mcp/stdio.js';
import { version } from './version.js';

const USAGE = `kimi-mcp ${version}
Usage: kimi-mcp            run the MCP server on stdio (what agents start)
       kimi-mcp --version  print the version`;

async function main(argv: string[]): Promise<number | undefined> {
  const [command] = argv;
  if (command === undefined) {
    await runStdioServer();
    return undefined; // keep running until stdin closes
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  process.stderr.write(`Unknown command "${command}".\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e: unknown) => {
    log(e instanceof CatalogError ? e.message : e);
    process.exit(1);
  },
);
