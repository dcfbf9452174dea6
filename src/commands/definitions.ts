/**
 * The seven `/kimi:*` commands, defined once. Every form a client reads is rendered from here
 * (src/commands/render.ts): the Claude Code plugin's commands/*.md, the Gemini CLI extension's
 * commands/kimi/*.toml, Codex prompts, the files `kimi-mcp install` writes, and the server's MCP
 * prompts. A body is read by the calling agent on every use, so it stays short; `{{args}}` marks
 * where the user's arguments go. Bodies never contain `$`, `!{` or `@{`: Codex, Claude Code and
 * Gemini CLI would expand them.
 */

export interface CommandArgument {
  name: string;
  description: string;
  required: boolean;
}

export interface CommandDefinition {
  /** The name after `kimi:` (`review` → /kimi:review). */
  name: string;
  description: string;
  /** What to type after the command, as the slash-command menus show it. */
  argumentHint: string;
  /** The MCP prompt's arguments; their values, joined by spaces, stand for `{{args}}`. */
  arguments: CommandArgument[];
  /** The MCP tools the body calls (Claude Code pre-approves them for the command). */
  tools: string[];
  /** The instructions the calling agent receives, with `{{args}}` for the user's arguments. */
  body: string;
}

export const ARGS = '{{args}}';

const reviewArguments: CommandArgument[] = [
  { name: 'target', description: 'working (default), staged, branch [base ref] or commit:<ref>', required: false },
  { name: 'files', description: 'paths to limit the review to', required: false },
  { name: 'focus', description: 'what to look at hardest, e.g. security', required: false },
];

const reviewBody = (adversarial: boolean) =>
  `Review a git change with Kimi${adversarial ? ', arguing against it (what breaks, what was not considered)' : ''}. Arguments: "${ARGS}"

Call kimi_review${adversarial ? ' with adversarial: true' : ''}. From the arguments: "staged", "branch" (a ref after it is base) or "commit:<ref>" is target (none: the working tree); paths go in files; other words are focus.
Show the findings most severe first, one line each with file:line, then the summary. Check each finding against the code, say which you agree with, and offer to fix those.
`;

const jobIdArgument: CommandArgument = { name: 'job_id', description: 'the job id a background call returned', required: false };

export const COMMANDS: CommandDefinition[] = [
  {
    name: 'review',
    description: 'Kimi reviews the current git change: typed findings, most severe first',
    argumentHint: '[staged|branch [base]|commit:<ref>] [paths] [focus]',
    arguments: reviewArguments,
    tools: ['kimi_review'],
    body: reviewBody(false),
  },
  {
    name: 'adversarial-review',
    description: 'Kimi argues against the current git change: what breaks, what was missed',
    argumentHint: '[staged|branch [base]|commit:<ref>] [paths] [focus]',
    arguments: reviewArguments,
    tools: ['kimi_review'],
    body: reviewBody(true),
  },
  {
    name: 'ask',
    description: 'Ask Kimi a question and get a second opinion',
    argumentHint: '<question>',
    arguments: [{ name: 'question', description: 'what to ask Kimi', required: true }],
    tools: ['kimi_chat'],
    body: `Ask Kimi: "${ARGS}"

Call kimi_chat with that question as prompt; put any paths it names in files rather than pasting them. Show Kimi's answer, then say briefly where you agree or disagree.
`,
  },
  {
    name: 'rescue',
    description: 'Hand a stuck task to Kimi in the background',
    argumentHint: '[what is stuck]',
    arguments: [{ name: 'task', description: 'the stuck task (default: the one at hand)', required: false }],
    tools: ['kimi_agent', 'kimi_job'],
    body: `Hand a stuck task to Kimi in the background. Task: "${ARGS}" (none: the task at hand).

Call kimi_agent with background: true and the task in full: the goal, what was tried, the exact error. Use mode "propose" when a code change is wanted (Kimi never writes files; it returns a patch).
Give the user the job_id and go on with other work. Later, call kimi_job with action "result", that job_id and wait_seconds up to 50, once, rather than polling every turn. Review the patch before applying it.
`,
  },
  {
    name: 'status',
    description: 'Show how Kimi background jobs are doing',
    argumentHint: '[job_id]',
    arguments: [jobIdArgument],
    tools: ['kimi_job'],
    body: `Job: "${ARGS}"

Call kimi_job with action "status" and that job_id; with none, action "list". Report each job's state, progress, cost and elapsed time in a line.
`,
  },
  {
    name: 'result',
    description: "Get a Kimi background job's result",
    argumentHint: '[job_id]',
    arguments: [jobIdArgument],
    tools: ['kimi_job'],
    body: `Job: "${ARGS}"

Call kimi_job with action "result", that job_id (none: the newest from action "list") and wait_seconds 30. Present the result as its tool would; if it is still running, say so and what it has done so far.
`,
  },
  {
    name: 'cancel',
    description: 'Cancel a Kimi background job',
    argumentHint: '[job_id]',
    arguments: [jobIdArgument],
    tools: ['kimi_job'],
    body: `Job: "${ARGS}"

Call kimi_job with action "cancel" and that job_id. With none, call action "list" and ask which running job to cancel. Report what the job had produced.
`,
  },
];
