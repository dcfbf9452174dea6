/** The limits on `files`, in a module of their own so that the configuration can name the default
 *  without loading the glob and ignore libraries at start-up. */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024;
/** More files than this in one call is almost always a glob that reaches too far. */
export const MAX_FILES_PER_CALL = 2000;
