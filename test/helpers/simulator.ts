/** The Kimi host simulator ships in the package (for `kimi-mcp demo`); tests use the same one. */
import { afterAll, beforeAll } from 'vitest';
import { startSimulator } from '../../src/simulator/kimi-simulator.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/kimi-simulator.js';

export * from '../../src/simulator/kimi-simulator.js';

/**
 * One simulator for a test file: started before its tests, closed after them. The object
 * stands for it (every property is the running simulator's), so tests use it as the simulator.
 */
export function simulatorForFile(options: SimulatorOptions): Simulator {
  let running: Simulator | undefined;
  beforeAll(async () => {
    running = await startSimulator(options);
  });
  afterAll(() => running?.close());
  return new Proxy({} as Simulator, {
    get(_, key) {
      if (!running) throw new Error('The simulator starts in beforeAll: use it inside tests and hooks.');
      const value: unknown = Reflect.get(running, key);
      return typeof value === 'function' ? value.bind(running) : value;
    },
  });
}
