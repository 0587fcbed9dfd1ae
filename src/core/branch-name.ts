/**
 * Branch names for attempts: `warren/<short-id>-<slug>`.
 */
import { shortId } from './ids.ts';

/** why: keeps branch names readable in PR lists and well under git's ref length limits. */
const maxSlugLength = 40;

/** Turns a title into a lowercase, dash-separated slug that is safe in a git ref. */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxSlugLength)
    .replace(/-+$/g, '');
  return slug || 'task';
}

/** The branch a task's work is committed on. */
export function branchNameFor(taskId: string, title: string): string {
  return `warren/${shortId(taskId)}-${slugify(title)}`;
}
