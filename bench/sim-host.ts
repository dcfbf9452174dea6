/**
 * The simulator in a process of its own, so that a burst of chunks it writes does not stall the
 * clients being measured. argv[2]: the behaviour of every chat request (JSON). Prints its base
 * URL; when stdin closes, prints the stream events as JSON and exits.
 */
import { startSimulator } from '../src/simulator/kimi-simulator.js';
import type { Behaviour } from '../src/simulator/kimi-simulator.js';

const behaviour = JSON.parse(process.argv[2] ?? '{}') as Behaviour;
const sim = await startSimulator({ apiKey: process.env.SIM_KEY ?? 'sk-bench', defaultBehaviour: behaviour });
process.stdout.write(`${sim.baseURL}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  process.stdout.write(`${JSON.stringify(sim.streams)}\n`);
  void sim.close().then(() => process.exit(0));
});
