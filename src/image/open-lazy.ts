import { loadDecompressor } from './decompress/load.js';
import { detectImageKind } from './detect.js';
import type { OpenedImage, OpenImageOptions } from './open.js';
import { openBareSquashfs } from './open-squashfs.js';
import { FileSource } from './source.js';
import { parseSuperblock } from './squashfs/superblock.js';

/**
 * openImage for a command that runs once per process (inspect): a bare squashfs opens without
 * loading the ISO reader's modules nor the other five decompressors (a fifth of the modules at
 * start-up); an ISO loads open.js.
 */
export async function openImageLazy(path: string, options: OpenImageOptions = {}): Promise<OpenedImage> {
  const source = new FileSource(path);
  try {
    if (detectImageKind(path, source) === 'squashfs') {
      // only the image's own decompressor module is loaded
      const decompress = await loadDecompressor(parseSuperblock(source).compressor);
      return openBareSquashfs(path, source, () => decompress);
    }
  } catch (err) {
    source.close();
    throw err;
  }
  source.close();
  const { openImage } = await import('./open.js');
  return openImage(path, options);
}
