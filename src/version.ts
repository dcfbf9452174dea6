import pkg from '../package.json' with { type: 'json' };

/** The package version, inlined by the bundler so one number is used everywhere. */
export const version: string = pkg.version;
