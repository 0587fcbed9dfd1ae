/**
 * Environment variables that matter to every git command Warren runs.
 */

/**
 * Variables that point git at another repository than its working directory. why: they leak in when
 * Warren runs from a git hook (npm test in a pre-commit hook) or through a task's environment, and would
 * make every command act on someone else's repository; git commands run without them.
 */
export const GIT_REPOSITORY_LOCATING_VARIABLES: readonly string[] = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
];
