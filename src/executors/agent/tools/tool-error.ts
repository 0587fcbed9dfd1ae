/** Tool error results: what a built-in tool returns when a call cannot be done. */
import type { AgentToolResult } from '../agent-tool.ts';

/** A failed call: `message` says what went wrong in words the model can act on. */
export function toolError(message: string): AgentToolResult {
  return { output: message, isError: true };
}

/** Words for the file system error codes a tool meets in a worktree. */
const fileErrorReasons: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'a parent of this path is a file, not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'a file or directory with that name is in the way',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the device',
  ENAMETOOLONG: 'the name is too long',
};

/** Words for a file system error on `relativePath` (ENOENT, EACCES, ...), for a tool error. */
export function describeFileError(error: unknown, relativePath: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === undefined ? undefined : fileErrorReasons[code];
  if (reason !== undefined) return `${JSON.stringify(relativePath)}: ${reason}`;
  return `${JSON.stringify(relativePath)}: ${error instanceof Error ? error.message : String(error)}`;
}
