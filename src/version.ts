/**
 * The package version, injected from package.json by the bundler (scripts/build.mjs) and by
 * vitest.config.ts, so one number is used everywhere without shipping package.json in the bundle.
 */
declare const __KIMI_MCP_VERSION__: string;

export const version: string = __KIMI_MCP_VERSION__;
