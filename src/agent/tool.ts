/**
 * A tool Kimi may call in a `kimi_agent` run: one declarative object per tool (tools/*.ts), its
 * arguments declared once in zod, from which the JSON Schema sent to Kimi is made. Arguments are
 * checked before the tool runs, and every output is capped (cap.ts): a refusal or a bad argument
 * is a UsageError whose message tells Kimi what to do instead.
 */
import * as z from 'zod';
import { UsageError } from '../errors.js';
import { capOutput } from './cap.js';
import type { Workspace } from './workspace.js';

export type AgentMode = 'explore' | 'propose';

export interface ToolRun {
  /** What Kimi receives as the tool's result. */
  output: string;
  /** One line for `steps` and progress, e.g. `grep "reconnect" src/**\/*.ts → 7 matches`. */
  step: string;
}

export interface AgentTool {
  name: string;
  /** Short: it is sent to Kimi on every step. */
  description: string;
  /** JSON Schema of the arguments, for OpenAI function calling. */
  parameters: Record<string, unknown>;
  modes: readonly AgentMode[];
  /** Runs the tool with Kimi's (parsed JSON) arguments; throws a UsageError Kimi can act on. */
  run(args: unknown, workspace: Workspace): Promise<ToolRun>;
}

interface ToolSpec<In extends z.ZodObject> {
  name: string;
  description: string;
  input: In;
  modes: readonly AgentMode[];
  run(args: z.output<In>, workspace: Workspace): Promise<ToolRun>;
}

export function defineAgentTool<In extends z.ZodObject>(spec: ToolSpec<In>): AgentTool {
  // `$schema` costs tokens on every step and tells Kimi nothing.
  const { $schema: _, ...parameters } = z.toJSONSchema(spec.input, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return {
    name: spec.name,
    description: spec.description,
    parameters,
    modes: spec.modes,
    async run(args, workspace) {
      const parsed = spec.input.safeParse(args ?? {});
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message.replace(/^Invalid input: /, '')}`);
        throw new UsageError(`Bad arguments for ${spec.name}: ${problems.join('; ')}. Call it again with arguments that match its parameters.`);
      }
      const result = await spec.run(parsed.data, workspace);
      return { ...result, output: capOutput(result.output) };
    },
  };
}

/** A quoted argument for a step line, shortened so the line stays one line. */
export function quoted(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ');
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}

/** A count with its noun: `1 match`, `7 matches`. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
