import { runGit } from './run-git.ts';

/** Which kind of secret a finding looks like. */
export type SecretRule =
  /** AWS access key id (`AKIA...` long-term, `ASIA...` temporary). */
  | 'aws-access-key-id'
  /** GitHub personal, OAuth, app or refresh token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`). */
  | 'github-token'
  /** Anthropic API key (`sk-ant-...`). */
  | 'anthropic-api-key'
  /** OpenAI API key (`sk-...`, `sk-proj-...`). */
  | 'openai-api-key'
  /** Slack token (`xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-`). */
  | 'slack-token'
  /** PEM or OpenSSH private key block. */
  | 'private-key'
  /** A random-looking string assigned to a name like password, secret, token or api key. */
  | 'generic-secret';

/** A line added since the base commit that looks like it contains a secret. */
export interface SecretFinding {
  /** Path relative to the worktree root. */
  file: string;
  /** 1-based line number in the file at HEAD. */
  line: number;
  rule: SecretRule;
  /** The surrounding text with every secret on the line masked (first 4 characters, then `****`). */
  excerpt: string;
}

/** Which worktree to scan against which commit. */
export interface ScanForSecretsOptions {
  worktreePath: string;
  /** Commit the task started from; only lines added since it are scanned. */
  baseSha: string;
}

interface Match {
  rule: SecretRule;
  start: number;
  end: number;
  /** How many leading characters the excerpt may show: 4 for keys, the header for a private key. */
  visible: number;
}

interface AddedLine {
  file: string;
  line: number;
  text: string;
}

interface PatternRule {
  rule: SecretRule;
  pattern: RegExp;
  /** Extra check on the matched secret to drop look-alikes. */
  accept?: (secret: string) => boolean;
}

const patternRules: PatternRule[] = [
  {
    rule: 'aws-access-key-id',
    pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
    // why: AWS documentation's sample key ids end in EXAMPLE and appear in many READMEs.
    accept: (secret) => !secret.endsWith('EXAMPLE'),
  },
  { rule: 'github-token', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g },
  { rule: 'github-token', pattern: /\bgithub_pat_[A-Za-z0-9_]{50,}\b/g },
  { rule: 'anthropic-api-key', pattern: /\bsk-ant-[A-Za-z0-9_-]{32,}/g },
  {
    rule: 'openai-api-key',
    pattern: /\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}/g,
    // why: real keys are random base62; long kebab-case identifiers starting with "sk-" are not.
    accept: (secret) => hasLowerUpperAndDigit(secret.replace(/^sk-(?:proj-|svcacct-|admin-)?/, '')),
  },
  { rule: 'slack-token', pattern: /\bxox[baprs]-[0-9]{6,}-[A-Za-z0-9-]{8,}/g },
];

// why: a header alone does not make a key (parsers and docs mention it); require it alone on its line
// (a PEM file) or followed by base64 on the same line (a key embedded in a string literal).
const privateKeyHeader = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g;
const base64Body = /[A-Za-z0-9+/=]{40,}/;

// why: names people give secrets; bounded prefix and suffix ({0,40}) keep matching linear on long lines.
const secretName =
  '[A-Za-z0-9_.-]{0,40}?(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?key|credential)[A-Za-z0-9_.-]{0,40}';

/** `name = "value"`, `"name": "value"`, `name: 'value'`, `name := "value"` in code and config. */
const quotedAssignment = new RegExp(
  `\\b${secretName}["']?\\s*(?::=|=>|=|:)\\s*["'\`]([^"'\`\\s]{16,200})["'\`]`,
  'gi',
);

/** `NAME=value` filling a whole line, as in .env, shell and ini files. */
const unquotedAssignment = new RegExp(
  `^\\s*(?:export\\s+)?${secretName}\\s*=\\s*([A-Za-z0-9+/=_.~!@#%^&*-]{16,200})\\s*$`,
  'gi',
);

// why: values people write instead of a real secret; flagging them trains everyone to ignore findings.
const placeholderWords =
  /example|sample|placeholder|changeme|change_me|your[_-]|dummy|fake|redacted|xxxx|\*\*\*\*|<|>|\$\{|\{\{|%s|process\.env/i;

// why: 3.5 bits per character separates random keys (base64 is about 5-6) from words and identifiers
// (English text is about 2.5-3.5); together with the other checks it keeps false positives rare.
const minimumEntropyBitsPerCharacter = 3.5;

// why: an excerpt is for a person to find the line; 40 characters either side is enough context.
const excerptContext = 40;

/**
 * Scans the lines added between `baseSha` and HEAD (`git diff <baseSha> HEAD -U0`) for high-confidence
 * secrets: cloud and AI provider keys, GitHub and Slack tokens, private key blocks, and random-looking
 * strings assigned to names like `password` or `apiKey`.
 *
 * Call it after committing. Returns the findings (empty when clean) and never throws for a finding;
 * secrets never appear in full in the result. Binary files are not scanned.
 */
export async function scanForSecrets(options: ScanForSecretsOptions): Promise<SecretFinding[]> {
  const { stdout } = await runGit(
    [
      '-c',
      'core.quotePath=false',
      'diff',
      '--no-color',
      '--no-ext-diff',
      '--find-renames',
      '--diff-filter=d',
      '--src-prefix=a/',
      '--dst-prefix=b/',
      '-U0',
      options.baseSha,
      'HEAD',
      '--',
    ],
    { cwd: options.worktreePath },
  );
  const findings: SecretFinding[] = [];
  for (const added of parseAddedLines(stdout)) {
    const matches = findSecrets(added.text);
    for (const match of matches) {
      findings.push({
        file: added.file,
        line: added.line,
        rule: match.rule,
        excerpt: maskedExcerpt(added.text, match, matches),
      });
    }
  }
  return findings;
}

/** The added lines of a unified diff with their file and line number in the new version. */
function parseAddedLines(diff: string): AddedLine[] {
  const added: AddedLine[] = [];
  let file: string | undefined;
  let nextLine = 0;
  let inHunk = false;
  for (const text of diff.split('\n')) {
    if (text.startsWith('diff --git ')) {
      file = undefined;
      inHunk = false;
    } else if (!inHunk && text.startsWith('+++ ')) {
      file = parseDiffPath(text.slice(4));
    } else if (text.startsWith('@@ ')) {
      const start = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text)?.[1];
      nextLine = Number(start ?? 0);
      inHunk = true;
    } else if (inHunk && text.startsWith('+')) {
      if (file !== undefined) added.push({ file, line: nextLine, text: text.slice(1) });
      nextLine += 1;
    } else if (inHunk && text.startsWith(' ')) {
      nextLine += 1;
    }
  }
  return added;
}

/** `b/path` or `"b/quoted\tpath"` from a `+++` header; undefined for `/dev/null`. */
function parseDiffPath(raw: string): string | undefined {
  if (raw === '/dev/null') return undefined;
  let unquoted = raw;
  if (raw.startsWith('"') && raw.endsWith('"')) {
    unquoted = raw
      .slice(1, -1)
      .replace(/\\([\\"tn])/g, (_escape, character: string) =>
        character === 't' ? '\t' : character === 'n' ? '\n' : character,
      );
  }
  return unquoted.startsWith('b/') ? unquoted.slice(2) : unquoted;
}

/** Every secret on one line; a generic match overlapping a specific one is dropped. */
function findSecrets(text: string): Match[] {
  const matches: Match[] = [];
  for (const { rule, pattern, accept } of patternRules) {
    for (const found of text.matchAll(pattern)) {
      if (accept && !accept(found[0])) continue;
      matches.push({ rule, start: found.index, end: found.index + found[0].length, visible: 4 });
    }
  }
  for (const found of text.matchAll(privateKeyHeader)) {
    const rest = text.slice(found.index + found[0].length);
    const isAlone = text.trim().replace(/^["'`]|["'`,;]+$/g, '') === found[0];
    if (isAlone || base64Body.test(rest)) {
      // The key body that may follow on the same line is masked along with it.
      matches.push({ rule: 'private-key', start: found.index, end: text.length, visible: found[0].length });
    }
  }
  const generic = [
    ...[...text.matchAll(quotedAssignment)].filter((found) => looksLikeRandomSecret(found[1] ?? '')),
    ...[...text.matchAll(unquotedAssignment)].filter(
      (found) => looksLikeRandomSecret(found[1] ?? '') && characterClasses(found[1] ?? '') >= 3,
    ),
  ];
  for (const found of generic) {
    const value = found[1] ?? '';
    const start = found.index + found[0].lastIndexOf(value);
    const end = start + value.length;
    if (matches.some((other) => other.start < end && start < other.end)) continue;
    matches.push({ rule: 'generic-secret', start, end, visible: 4 });
  }
  return matches.sort((left, right) => left.start - right.start);
}

function looksLikeRandomSecret(value: string): boolean {
  if (placeholderWords.test(value)) return false;
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  // Paths, URLs and dotted names are configuration, not secrets.
  if (/^[./]|:\/\/|\.(?:com|org|net|io|json|ts|js|py)$/i.test(value)) return false;
  return shannonEntropy(value) >= minimumEntropyBitsPerCharacter;
}

function hasLowerUpperAndDigit(value: string): boolean {
  return /[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value);
}

/** How many of lower case, upper case, digits and symbols `value` uses. */
function characterClasses(value: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((characterClass) => characterClass.test(value))
    .length;
}

/** Bits per character of `value`'s character distribution. */
function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const character of value) counts.set(character, (counts.get(character) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const probability = count / value.length;
    entropy -= probability * Math.log2(probability);
  }
  return entropy;
}

/** The text around `match`, with every secret on the line masked. */
function maskedExcerpt(text: string, match: Match, all: Match[]): string {
  let windowStart = Math.max(0, match.start - excerptContext);
  let windowEnd = Math.min(text.length, match.end + excerptContext);
  // A secret cut by the window edge is shown whole (masked), so the excerpt never ends inside one.
  for (const secret of all) {
    if (secret.end <= windowStart || secret.start >= windowEnd) continue;
    windowStart = Math.min(windowStart, secret.start);
    windowEnd = Math.max(windowEnd, secret.end);
  }
  let excerpt = '';
  let position = windowStart;
  for (const secret of all) {
    if (secret.end <= windowStart || secret.start >= windowEnd) continue;
    if (secret.start < position) continue;
    excerpt += text.slice(position, secret.start);
    excerpt += mask(text, secret);
    position = secret.end;
  }
  excerpt += text.slice(position, windowEnd);
  const prefix = windowStart > 0 ? '...' : '';
  const suffix = windowEnd < text.length ? '...' : '';
  return `${prefix}${excerpt.trim()}${suffix}`;
}

// why: four characters identify the kind of key (and which one, to its owner) without making it usable.
function mask(text: string, secret: Match): string {
  return `${text.slice(secret.start, Math.min(secret.end, secret.start + secret.visible))}****`;
}
