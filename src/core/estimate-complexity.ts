/**
 * The complexity heuristic: a deterministic guess at how hard a task is from its words, with the reason
 * that decided it, so that every routing decision can be explained and questioned.
 */
import type { Complexity, TaskSpec } from './types.ts';

/** A complexity and the reason for it, in words. */
export interface ComplexityEstimate {
  complexity: Complexity;
  reason: string;
}

/** What the heuristic reads of a task. */
export type ComplexityInput = Pick<TaskSpec, 'title' | 'instructions' | 'successCriteria' | 'executorInput'>;

// why: a shell task may still carry a sentence of context ("run the nightly export"); more than that is
// work for an agent to read.
const shortInstructionsLength = 200;
// why: about a page and a half of prose: instructions that long describe a project, not a change.
const longInstructionsLength = 3_000;
// why: more than five separate checks means several things must go right at once.
const manyCriteria = 5;
// why: a mechanical change fits in one short sentence; longer text explains something that needs judgement.
const oneLineLength = 160;

/** Words that mark hard work, each with the pattern that finds it and its inflections (whole words only). */
const complexKeywords: ReadonlyArray<{ word: string; pattern: RegExp }> = [
  { word: 'refactor', pattern: /\brefactor(?:s|ed|ing|ings)?\b/i },
  { word: 'architecture', pattern: /\barchitectur(?:e|es|al)\b/i },
  { word: 'redesign', pattern: /\bredesign(?:s|ed|ing)?\b/i },
  { word: 'rewrite', pattern: /\brewrit(?:e|es|ing|ten)\b/i },
  { word: 'migrate', pattern: /\bmigrat(?:e|es|ed|ing|ion|ions)\b/i },
  { word: 'concurrency', pattern: /\bconcurren(?:cy|t)\b/i },
  { word: 'security', pattern: /\bsecurity\b/i },
];

/** Words that mark a mechanical change (whole words only). */
const mechanicalKeywords: ReadonlyArray<{ word: string; pattern: RegExp }> = [
  { word: 'rename', pattern: /\brenam(?:e|es|ed|ing)\b/i },
  { word: 'typo', pattern: /\btypos?\b/i },
  { word: 'bump', pattern: /\bbump(?:s|ed|ing)?\b/i },
  { word: 'format', pattern: /\bformat(?:s|ted|ting)?\b/i },
  { word: 'comment', pattern: /\bcomment(?:s|ed|ing)?\b/i },
  { word: 'reword', pattern: /\breword(?:s|ed|ing)?\b/i },
];

/**
 * Estimates a task's complexity. Rules, first match wins:
 * 1. a shell command (`executorInput.run`) with no or short instructions: `trivial`;
 * 2. words of hard work (refactor, architecture, redesign, rewrite, migrate, concurrency, security) in the
 *    title, instructions or criteria, instructions over 3,000 characters, or more than 5 success criteria:
 *    `complex`, naming every sign found;
 * 3. one short line with words of a mechanical change (rename, typo, bump, format, comment, reword):
 *    `trivial`;
 * 4. otherwise `standard`.
 */
export function estimateComplexity(task: ComplexityInput): ComplexityEstimate {
  const instructions = task.instructions.trim();
  if (hasShellCommand(task.executorInput)) {
    if (instructions.length === 0)
      return { complexity: 'trivial', reason: 'a shell command with no instructions' };
    if (instructions.length <= shortInstructionsLength && !instructions.includes('\n')) {
      return { complexity: 'trivial', reason: 'a shell command with short instructions' };
    }
  }

  const text = [
    task.title,
    instructions,
    ...task.successCriteria.map((criterion) => criterion.description),
  ].join('\n');
  const signs: string[] = [];
  const words = matchedWords(complexKeywords, text);
  if (words.length > 0) signs.push(`mentions ${joinWords(words)}`);
  if (instructions.length > longInstructionsLength) {
    signs.push(
      `instructions are ${instructions.length.toLocaleString('en-US')} characters (over ${longInstructionsLength.toLocaleString('en-US')})`,
    );
  }
  if (task.successCriteria.length > manyCriteria) {
    signs.push(`${task.successCriteria.length} success criteria (over ${manyCriteria})`);
  }
  if (signs.length > 0) return { complexity: 'complex', reason: signs.join('; ') };

  const oneLine = `${task.title} ${instructions}`.trim();
  if (!instructions.includes('\n') && oneLine.length <= oneLineLength) {
    const mechanical = matchedWords(mechanicalKeywords, oneLine);
    if (mechanical.length > 0) {
      return { complexity: 'trivial', reason: `a one-line mechanical change (${joinWords(mechanical)})` };
    }
  }
  return { complexity: 'standard', reason: 'no sign of a trivial or a complex task' };
}

/** True when the executor input holds a shell command: a non-blank `run` string or a non-empty list. */
export function hasShellCommand(executorInput: Record<string, unknown>): boolean {
  const run = executorInput.run;
  if (typeof run === 'string') return run.trim().length > 0;
  return Array.isArray(run) && run.length > 0;
}

function matchedWords(keywords: ReadonlyArray<{ word: string; pattern: RegExp }>, text: string): string[] {
  return keywords.filter((keyword) => keyword.pattern.test(text)).map((keyword) => keyword.word);
}

/** `a`, `a and b`, `a, b and c`. */
function joinWords(words: string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
