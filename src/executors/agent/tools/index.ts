/** Public surface of the agent loop's built-in tools. */
export * from './create-builtin-tools.ts';
export * from './create-edit-file-tool.ts';
export * from './create-git-diff-tool.ts';
export * from './create-git-status-tool.ts';
export * from './create-glob-tool.ts';
export * from './create-grep-tool.ts';
export * from './create-list-directory-tool.ts';
export * from './create-read-file-tool.ts';
export * from './create-report-progress-tool.ts';
export * from './create-run-shell-tool.ts';
export * from './create-write-file-tool.ts';
export * from './resolve-worktree-path.ts';
