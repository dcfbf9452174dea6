// Defined in src/errors.ts so that src/state can throw it without importing src/kimi.
export { UsageError } from '../errors.js';
