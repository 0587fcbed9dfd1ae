/**
 * Reads Aider's plain-text stdout. Aider has no machine-readable output: with `--no-pretty` every notice,
 * warning and error goes through one console to stdout (stderr stays empty except for argparse errors),
 * and the model's reply is printed as plain text. The lines this parser recognises, and where Aider prints
 * them (Aider 0.86, `aider/coders/base_coder.py` unless noted):
 * - `Tokens: 3.0k sent, 42 received. Cost: $0.0063 message, $0.0063 session.`: one per model call
 *   (`calculate_and_show_tokens_and_cost` + `show_usage_report`); counts are rounded by `format_tokens`
 *   (`aider/utils.py`): exact below 1 000, one decimal of k below 10 000, whole k above. The cost part is
 *   absent when the model has no price; with both cache reads and writes it moves to its own line.
 * - `Applied edit to <path>` (`apply_updates`): a file Aider changed.
 * - `litellm.<Name>Error: …` then a description, then `Retrying in N seconds...` when Aider retries
 *   (`send_message`, `aider/exceptions.py`); the last such error without a retry ended the run. Aider still
 *   exits 0 after it (`aider/main.py` returns nothing after `coder.run`), so the exit code proves nothing.
 * - `… has hit a token limit!` (`show_exhausted_error`) and `An uncaught exception occurred:`
 *   (`aider/report.py`): the run failed.
 * - The start-up banner (`Aider v…`, `Model: …`, `Git repo: …`, `Repo-map: …`, `Added … to the chat.`,
 *   `Restored previous conversation history.`) and other notices.
 * Everything else is the model's text. Recorded transcripts of Aider 0.86.2 in this shape are quoted in
 * `test/fixtures/cli-agents/aider/README.md`.
 */
import type { ExecutorEvent } from '../../spec.ts';
import type { CliOutcome, CliOutputParser } from '../cli-agent-adapter.ts';
import { stdoutLine } from '../json-lines.ts';

/**
 * The session id an Aider run reports once a model call completed. Aider's "session" is the chat history
 * file in the activation's home, which `--restore-chat-history` reads back; there is no id to carry.
 */
export const aiderChatHistorySession = 'aider-chat-history';

// why: the error classes Aider (aider/exceptions.py) does not retry; a retry of the attempt cannot help.
const permanentErrors = new Set([
  'AuthenticationError',
  'BadRequestError',
  'NotFoundError',
  'ContextWindowExceededError',
  'PermissionDeniedError',
]);

// why: enough of the end of the output to say what happened when Aider stops without an error line.
const recentLinesKept = 5;

const usagePattern =
  /^Tokens: ([\d.,]+k?) sent(?:, ([\d.,]+k?) cache write)?(?:, ([\d.,]+k?) cache hit)?, ([\d.,]+k?) received\./;
const appliedEditPattern = /^(?:Applied edit to|Did not apply edit to) (.+?)(?: \(--dry-run\))?$/;
const apiErrorPattern = /^litellm\.(\w+):\s*(.*)$/;
const retryPattern = /^Retrying in [\d.]+ seconds?\.\.\.$/;
const tokenLimitPattern = /has hit a token limit!$/;
const noticePatterns = [
  /^Aider v\d/,
  /^(?:Main model|Weak model|Editor model|Model): /,
  /^Git repo: /,
  /^Repo-map: /,
  /^Added .+ to the chat(?: \(read-only\))?\.$/,
  /^Restored previous conversation history\.$/,
  /^Analytics have been permanently disabled\.$/,
  /^Detected dumb terminal/,
  /^Use \/help/,
  /^Note: in-chat filenames/,
  /^(?:Cur|Current|Git) working dir: /,
  /^Cost: \$[\d.]+ message, \$[\d.]+ session\.$/,
  /^Warning: /,
  /^Warning for /,
  /^The API provider/,
  /^The LLM did not conform to the edit format\.$/,
  /^https:\/\/aider\.chat\/docs\//,
  /^Only \d+ reflections allowed, stopping\.$/,
  /^Committing .+ before applying edits\.$/,
  /^Skipping edits to /,
  /^Creating empty file /,
  // The reflection Aider sends back after edits that did not apply (aider/coders/editblock_coder.py).
  /^# \d+ SEARCH\/REPLACE blocks? failed to match!$/,
  /^## SearchReplaceNoExactMatch: /,
  /^The SEARCH section must exactly match /,
  /^Did you mean to match some of these actual lines/,
  /^Are you sure you need this SEARCH\/REPLACE block\?$/,
  /^The REPLACE lines are already in /,
  /^# The other \d+ SEARCH\/REPLACE blocks? were applied successfully\.$/,
];

/** A fresh parser for one Aider run. */
export function createAiderOutputParser(): CliOutputParser {
  let usageLines = 0;
  let previousUsageLine: string | undefined;
  let edits = 0;
  const editedFiles: string[] = [];
  let responseLines: string[] = [];
  let lastResponse: string[] = [];
  let textSinceError = false;
  let apiError: { name: string; message: string; retried: boolean } | undefined;
  let apiErrorSinceUsage = false;
  let fatal: { message: string; retryable: boolean } | undefined;
  let uncaughtException = false;
  let exceptionLine: string | undefined;
  const recentLines: string[] = [];

  return {
    line(rawLine) {
      const line = rawLine.trimEnd();
      if (line.trim() !== '') {
        recentLines.push(line);
        if (recentLines.length > recentLinesKept) recentLines.shift();
      }
      if (uncaughtException) {
        // The traceback: keep its last "SomeError: message" line for the error message.
        if (/^\w[\w.]*(?:Error|Exception)\b.*:/.test(line)) exceptionLine = line;
        return [stdoutLine(line)];
      }

      const usage = usagePattern.exec(line);
      if (usage) {
        // Aider prints the previous call's report again after a call that failed (its report is only
        // replaced by a successful call): the same line, after an error, with no reply in between.
        const repeated = line === previousUsageLine && apiErrorSinceUsage && !textSinceError;
        previousUsageLine = line;
        apiErrorSinceUsage = false;
        textSinceError = false;
        if (repeated) return [stdoutLine(line)];
        usageLines += 1;
        apiError = undefined;
        lastResponse = responseLines;
        responseLines = [];
        const [sent, , cacheHit, received] = [usage[1], usage[2], usage[3], usage[4]].map(tokenCount);
        // The line stays in the log too: its cost part is Aider's own estimate.
        return [stdoutLine(line), { type: 'usage', inputTokens: sent! + cacheHit!, outputTokens: received! }];
      }

      const edit = appliedEditPattern.exec(line);
      if (edit) {
        edits += 1;
        const file = edit[1]!;
        if (!editedFiles.includes(file)) editedFiles.push(file);
        const toolCallId = `aider-edit-${edits}`;
        return [
          { type: 'tool-call', toolCallId, toolName: 'edit', input: { path: file } },
          { type: 'tool-result', toolCallId, toolName: 'edit', output: line },
        ];
      }

      const error = apiErrorPattern.exec(line);
      if (error) {
        apiError = { name: error[1]!, message: line, retried: false };
        apiErrorSinceUsage = true;
        textSinceError = false;
        responseLines = [];
        return [stdoutLine(line)];
      }
      if (line.startsWith('The API provider') && apiError && !apiError.retried) {
        // Aider's plain-words description of the error just printed (aider/exceptions.py).
        apiError.message = `${apiError.message} (${line})`;
        return [stdoutLine(line)];
      }
      if (retryPattern.test(line)) {
        if (apiError) apiError.retried = true;
        responseLines = [];
        return [stdoutLine(line)];
      }
      if (tokenLimitPattern.test(line)) {
        fatal = { message: line, retryable: false };
        return [stdoutLine(line)];
      }
      if (line.startsWith('An uncaught exception occurred')) {
        uncaughtException = true;
        return [stdoutLine(line)];
      }
      if (noticePatterns.some((pattern) => pattern.test(line))) {
        // Aider's notices come between replies, never inside one: the next reply starts after them.
        responseLines = [];
        return [stdoutLine(line)];
      }

      if (line.trim() !== '') textSinceError = true;
      responseLines.push(line);
      return [{ type: 'text-delta', text: `${line}\n` }];
    },

    finish(exitCode) {
      const events: ExecutorEvent[] = [];
      const fail = (message: string | undefined, retryable?: boolean): CliOutcome => {
        if (message !== undefined) {
          events.push({
            type: 'error',
            error: { kind: 'agent_error', message, retryable: retryable ?? true },
          });
        }
        return {
          succeeded: false,
          ...(message !== undefined ? { errorMessage: message } : {}),
          ...(retryable !== undefined ? { retryable } : {}),
        };
      };

      let outcome: CliOutcome;
      if (uncaughtException) {
        outcome = fail(`aider crashed: ${exceptionLine ?? 'an uncaught exception'}`, false);
      } else if (fatal) {
        outcome = fail(fatal.message, fatal.retryable);
      } else if (apiError && !apiError.retried) {
        outcome = fail(apiError.message, !permanentErrors.has(apiError.name));
      } else if (apiError) {
        outcome = fail(`${apiError.message} (aider gave up retrying)`, true);
      } else if (exitCode !== 0) {
        // The executor reports the exit code or signal with the output's tail (stderr included).
        outcome = { succeeded: false };
      } else if (usageLines === 0) {
        const said = recentLines.length > 0 ? `; its last output: ${recentLines.join(' | ')}` : '';
        outcome = fail(`aider finished without completing a model call${said}`);
      } else {
        const summary =
          summarise(lastResponse) ??
          (editedFiles.length > 0 ? `Edited ${editedFiles.join(', ')}` : undefined);
        outcome = {
          succeeded: true,
          ...(summary !== undefined ? { summary } : {}),
          sessionId: aiderChatHistorySession,
        };
      }
      return { events, outcome };
    },
  };
}

/** `3.0k` → 3000, `12k` → 12000, `845` → 845; `undefined` (an absent group) → 0. */
function tokenCount(text: string | undefined): number {
  if (text === undefined) return 0;
  const plain = text.replace(/,/g, '');
  const value = Number.parseFloat(plain);
  if (!Number.isFinite(value)) return 0;
  return Math.round(plain.endsWith('k') ? value * 1000 : value);
}

/**
 * The last reply without its edit blocks: fenced blocks and the file name line Aider's formats put right
 * before each fence are dropped; what remains is the model's explanation.
 */
function summarise(lines: string[]): string | undefined {
  const kept: string[] = [];
  let inFence = false;
  let inEditBlock = false;
  for (const line of lines) {
    const opensBlock = /^\s*(?:```|~~~)/.test(line) || /^<{5,9} SEARCH/.test(line);
    if (!inFence && !inEditBlock && opensBlock) {
      // The file name Aider's edit formats put on the line before each block.
      if (kept.length > 0 && /^\S+$/.test(kept.at(-1)!)) kept.pop();
      if (/^<{5,9} SEARCH/.test(line)) inEditBlock = true;
      else inFence = true;
      continue;
    }
    if (inFence) {
      if (/^\s*(?:```|~~~)/.test(line)) inFence = false;
      continue;
    }
    if (inEditBlock) {
      if (/^>{5,9} REPLACE/.test(line)) inEditBlock = false;
      continue;
    }
    kept.push(line);
  }
  // Bare file names before the prose are the subjects of Aider's "Add file to the chat?" questions.
  while (kept.length > 0 && (kept[0]!.trim() === '' || /^\S+$/.test(kept[0]!))) kept.shift();
  const text = kept.join('\n').trim();
  return text === '' ? undefined : text;
}
