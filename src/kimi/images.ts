/**
 * Images for vision models, always sent as base64 data URLs: Moonshot's API refuses plain
 * http(s) image URLs, so remote images are fetched here and inlined.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { UsageError } from './errors.js';
import { confine } from './files/roots.js';
import type { AllowedFolders } from './files/roots.js';

const MIME_BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;

function tooLarge(source: string, bytes: number): UsageError {
  return new UsageError(`Image ${source} is ${(bytes / 1048576).toFixed(1)} MB; the limit is ${MAX_IMAGE_BYTES / 1048576} MB. Downscale it first.`);
}

async function fromUrl(url: string, signal?: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  } catch (e) {
    throw new UsageError(`Could not download image ${url}: ${(e as Error).message}. Check the URL or pass a local file path.`);
  }
  if (!response.ok) throw new UsageError(`Could not download image ${url}: HTTP ${response.status}. Check the URL or pass a local file path.`);
  const type = response.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
  if (!type.startsWith('image/')) throw new UsageError(`${url} is not an image (content-type "${type}"). Pass a png, jpeg, webp or gif.`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > MAX_IMAGE_BYTES) throw tooLarge(url, bytes.length);
  return `data:${type};base64,${bytes.toString('base64')}`;
}

async function fromFile(path: string): Promise<string> {
  const mime = MIME_BY_EXTENSION[extname(path).toLowerCase()];
  if (!mime) throw new UsageError(`Image ${path}: unsupported file type; use .png, .jpg, .jpeg, .webp or .gif.`);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new UsageError(`Cannot read image ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Give a path that exists (absolute, or relative to the server's working directory) or an http(s) URL.`);
  }
  if (size > MAX_IMAGE_BYTES) throw tooLarge(path, size);
  return `data:${mime};base64,${(await readFile(path)).toString('base64')}`;
}

/** Whether an `images` entry names a file to read (a path or file:// URI), not a URL or data URL. */
export function isImageFile(source: string): boolean {
  return !source.startsWith('data:image/') && !/^https?:\/\//i.test(source);
}

/**
 * A path, an http(s) URL or a data URL, as a data URL. With `roots`, a path or file:// URI must
 * lie inside them (as `files` must); without, it is read wherever it is.
 */
export async function imageDataUrl(source: string, signal?: AbortSignal, roots?: AllowedFolders): Promise<string> {
  if (source.startsWith('data:image/')) return source;
  if (!isImageFile(source)) return fromUrl(source, signal);
  if (roots) return fromFile(await confine(source, roots.folders, roots.from));
  return fromFile(source.startsWith('file://') ? new URL(source).pathname : source);
}
