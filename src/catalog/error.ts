/** A broken skill: every problem found, each naming its file and field. */
export class CatalogError extends Error {
  constructor(readonly problems: string[]) {
    super(`The Kimi skill files are invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CatalogError';
  }
}
