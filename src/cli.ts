/**
 * `kimi-mcp` commands (dist/main.mjs). The bare `kimi-mcp` that agents spawn is answered by the
 * small CommonJS launcher (src/cli/launch.ts) before this module is ever loaded.
 * Every failure prints what to do and exits non-zero; nothing crashes.
 */
import { UsageError } from './kimi/errors.js';
import { agentOptions, chatOptions, costOptions, exitWith, parseCommandLine, reviewOptions, USAGE } from './cli/args.js';
import { bundleDir } from './catalog/snapshot.js';
import { serveStdio } from './startup/fast-stdio.js';
import { version } from './version.js';

/** The stdio server, with its first answers from the start-up snapshot when it is valid. */
function stdioServer(): Promise<void> {
  return serveStdio({
    env: process.env,
    distDir: bundleDir(import.meta.url),
    input: process.stdin,
    output: process.stdout,
    loadFull: () => import('./mcp/stdio.js'),
  });
}

async function main(argv: string[]): Promise<number | undefined> {
  if (argv.length === 0) {
    await stdioServer();
    return undefined; // keeps running until stdin closes
  }
  const line = parseCommandLine(argv);
  const { values, command, target, extra } = line;
  if (values.version) return void process.stdout.write(`${version}\n`), 0;
  if (values.help || command === 'help' || command === undefined) return void process.stdout.write(`${USAGE}\n`), 0;
  if (extra.length) throw new UsageError(`Unexpected arguments: ${extra.join(' ')}. Quote the prompt: kimi-mcp ${command === 'agent' ? 'agent' : 'chat'} "…"`);

  const { cliContext } = await import('./cli/context.js');
  const cli = await cliContext(bundleDir(import.meta.url));
  switch (command) {
    case 'install':
    case 'uninstall': {
      const { runInstall } = await import('./cli/install.js');
      return runInstall(cli, target, { scope: values.scope, print: values.print, writeKey: values['write-key'], launch: values.launch, platform: values.platform, hook: values.hook, failOn: values['fail-on'], strict: values.strict }, command === 'uninstall');
    }
    case 'doctor': {
      const { runDoctor } = await import('./cli/doctor.js');
      return runDoctor(cli);
    }
    case 'chat': {
      const { runChatCommand } = await import('./cli/chat.js');
      return runChatCommand(cli, target, chatOptions(line));
    }
    case 'agent': {
      const { runAgentCommand } = await import('./cli/agent.js');
      return runAgentCommand(cli, target, agentOptions(line));
    }
    case 'review': {
      if (target !== undefined) throw new UsageError(`Unexpected argument "${target}": name what to review with --target (working, staged, branch or commit:<ref>).`);
      const { runReviewCommand } = await import('./cli/review.js');
      return runReviewCommand(cli, reviewOptions(line));
    }
    case 'cost': {
      const { runCostCommand } = await import('./cli/chat.js');
      return runCostCommand(cli, costOptions(line));
    }
    case 'jobs': {
      const { runJobsCommand } = await import('./cli/jobs.js');
      return runJobsCommand(cli, { json: values.json });
    }
    case 'job': {
      const { runJobCommand } = await import('./cli/jobs.js');
      return runJobCommand(cli, target, { json: values.json });
    }
    case 'usage': {
      const { runUsageCommand } = await import('./cli/usage.js');
      return runUsageCommand(cli, { json: values.json, days: values.days });
    }
    case 'demo': {
      const { runDemo } = await import('./cli/demo.js');
      return runDemo(cli, { serve: values.serve });
    }
    case 'serve': {
      const { runServe } = await import('./cli/serve.js');
      if (!values.http) {
        await stdioServer();
        return undefined;
      }
      return runServe(cli, { port: values.port, host: values.host });
    }
    default:
      throw new UsageError(`Unknown command "${command}". Run kimi-mcp --help.`);
  }
}

// `review` is a gate: 1 means "findings", so a failure of its own (a broken install) exits 2.
exitWith(main(process.argv.slice(2)), process.argv[2] === 'review' ? 2 : 1);
