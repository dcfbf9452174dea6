/** The Kimi host simulator ships in the package (for `kimi-mcp demo`); tests use the same one. */
export * from '../../src/simulator/kimi-simulator.js';
