import { detectImageKind } from './detect.js';
import type { OpenedImage, OpenImageOptions } from './open.js';
import { openBareSquashfs } from './open-squashfs.js';
import { FileSource } from './source.js';

/**
 * openImage for a command that runs once per process (inspect): a bare squashfs opens without
 * loading the ISO reader's modules (a tenth of the command's start-up); an ISO loads open.js.
 */
export async function openImageLazy(path: string, options: OpenImageOptions = {}): Promise<OpenedImage> {
  const source = new FileSource(path);
  let squashfs: boolean;
  try {
    squashfs = detectImageKind(path, source) === 'squashfs';
    if (squashfs) return openBareSquashfs(path, source);
  } catch (err) {
    source.close();
    throw err;
  }
  source.close();
  const { openImage } = await import('./open.js');
  return openImage(path, options);
}
