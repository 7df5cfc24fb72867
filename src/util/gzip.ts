/** The gzip magic (RFC 1952: ID1 0x1f, ID2 0x8b): traces and image manifests may travel compressed. */
export function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
