/** Runs bench/agent-steps.ts on its own and prints its section: node scripts/bench-run.mjs agent-steps-main */
import { agentStepsBench } from './agent-steps.js';

console.log(await agentStepsBench());
