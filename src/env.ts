/**
 * Reading environment variables, below every room: configuration (src/kimi) and the state
 * folder (src/state) both read variables the same way.
 */

export type Env = Record<string, string | undefined>;

/**
 * A value a client passed without expanding (`${SOME_KEY}`), or an empty one, is treated as
 * unset: some clients (OpenClaw among them) hand the literal placeholder to the server.
 */
export function readVar(env: Env, name: string): { value: string | undefined; unexpanded: boolean } {
  const raw = env[name]?.trim();
  if (!raw) return { value: undefined, unexpanded: false };
  if (/^\$\{[^}]*\}$|^\$[A-Z_][A-Z0-9_]*$/.test(raw)) return { value: undefined, unexpanded: true };
  return { value: raw, unexpanded: false };
}
