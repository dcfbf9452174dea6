/**
 * What a run of steps (kimi_agent, kimi_review) reports as it goes: each step, the text so far
 * and an agent's patch so far, to the client's progress (when it asked for it) and to a
 * background job's file (when the call runs as one).
 */
import type { StepSpend } from '../agent/loop.js';
import { ProgressReporter } from './progress.js';
import type { ToolCall } from './tool.js';

export interface StepHooks {
  onStep?: (line: string, spent?: StepSpend) => Promise<void>;
  onDelta?: (text: string, reasoning: string) => void;
  onPatch?: (patch: string) => void;
}

export function stepHooks(call: ToolCall, label: string): { hooks: StepHooks; finish: () => Promise<void> } {
  const reporter = call.progress ? new ProgressReporter(call.progress, label, false) : undefined;
  const { record } = call;
  const finish = async () => reporter?.finish();
  if (!reporter && !record) return { hooks: {}, finish };
  return {
    hooks: {
      onStep: async (line, spent) => {
        record?.({ step: line, ...(spent ? { cost_usd: spent.cost_usd } : {}) });
        await reporter?.note(line);
      },
      onDelta: (text, reasoning) => {
        record?.({ text, reasoning });
        void reporter?.update(text, reasoning);
      },
      ...(record ? { onPatch: (patch: string) => record({ patch }) } : {}),
    },
    finish,
  };
}
