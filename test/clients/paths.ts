import { join } from 'node:path';
import { inject } from 'vitest';
import { CLIENTS } from './setup.js';
import type { ClientName } from './setup.js';

/** Absolute path of a client's entry point, installed by the global setup. */
export function clientBin(name: ClientName): string {
  return join(inject('clients')[name], CLIENTS[name].bin);
}

export function clientDir(name: ClientName): string {
  return inject('clients')[name];
}
