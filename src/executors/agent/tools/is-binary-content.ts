/** Tells text from binary file content. */

// why: git's own heuristic (buffer_is_binary) looks for a NUL byte in the first 8000 bytes.
const sniffedBytes = 8_000;

/** True when `content` looks binary: a NUL byte in its first 8000 bytes, as git decides. */
export function isBinaryContent(content: Uint8Array): boolean {
  const end = Math.min(content.length, sniffedBytes);
  for (let index = 0; index < end; index += 1) {
    if (content[index] === 0) return true;
  }
  return false;
}
