/**
 * Images for vision models, always sent as base64 data URLs: Moonshot's API refuses plain
 * http(s) image URLs, so remote images are fetched here (image-download.ts, bounded) and inlined.
 * A path is read only when it is a regular file, so a pipe or device cannot block or flood a call.
 */
import { extname } from 'node:path';
import type { Env } from '../env.js';
import { UsageError } from './errors.js';
import { FileTooLarge, NotRegularFile, readRegularFile } from './files/regular.js';
import { confine } from './files/roots.js';
import type { AllowedFolders } from './files/roots.js';
import { downloadImage, MAX_IMAGE_BYTES } from './image-download.js';

const MIME_BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};

function tooLarge(source: string, bytes: number): UsageError {
  return new UsageError(`Image ${source} is ${(bytes / 1048576).toFixed(1)} MB; the limit is ${MAX_IMAGE_BYTES / 1048576} MB. Downscale it first.`);
}

async function fromFile(path: string): Promise<string> {
  const mime = MIME_BY_EXTENSION[extname(path).toLowerCase()];
  if (!mime) throw new UsageError(`Image ${path}: unsupported file type; use .png, .jpg, .jpeg, .webp or .gif.`);
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, MAX_IMAGE_BYTES);
  } catch (e) {
    if (e instanceof FileTooLarge) throw tooLarge(path, e.bytes);
    if (e instanceof NotRegularFile) throw new UsageError(`Image ${path} is ${e.message}; give a picture file.`);
    throw new UsageError(`Cannot read image ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Give a path that exists (absolute, or relative to a folder this call may read) or an http(s) URL.`);
  }
  return `data:${mime};base64,${bytes.toString('base64')}`;
}

/** Whether an `images` entry names a file to read (a path or file:// URI), not a URL or data URL. */
export function isImageFile(source: string): boolean {
  return !source.startsWith('data:image/') && !/^https?:\/\//i.test(source);
}

/**
 * A path, an http(s) URL or a data URL, as a data URL. With `roots`, a path or file:// URI must
 * lie inside them (as `files` must); without, it is read wherever it is. `env` says which URLs
 * may be fetched (KIMI_MCP_IMAGE_HOSTS, KIMI_MCP_ALLOW_PRIVATE_URLS); by default, public https only.
 */
export async function imageDataUrl(source: string, signal?: AbortSignal, roots?: AllowedFolders, env: Env = {}): Promise<string> {
  if (source.startsWith('data:image/')) return source;
  if (!isImageFile(source)) return downloadImage(source, env, signal);
  if (roots) return fromFile(await confine(source, roots.folders, roots.from));
  return fromFile(source.startsWith('file://') ? new URL(source).pathname : source);
}
