/** Shared by the JSON and TOML editors: what a file's own bytes say about writing into it, and checks. */
import { isDeepStrictEqual } from 'node:util';
import { SERVER_NAME } from './agents.js';

const BOM = '\uFEFF';

/** The byte-order mark (kept aside, put back on write) and the text after it. */
export function splitBom(text: string): [bom: string, body: string] {
  return text.startsWith(BOM) ? [BOM, text.slice(1)] : ['', text];
}

/** The file's line ending, so that lines we add match the lines around them. */
export const lineEnding = (text: string): string => (text.includes('\r\n') ? '\r\n' : '\n');

/** 1-based line and column of an offset, as editors show them. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/** What to do about a config file we will not edit (install and uninstall alike). */
export const BY_HAND = `edit the "${SERVER_NAME}" entry by hand (install --print shows it)`;

/** Equal as data: both parsers give objects without a prototype, which deep equality would tell apart. */
export const sameData = (a: unknown, b: unknown): boolean => isDeepStrictEqual(structuredClone(a), structuredClone(b));
