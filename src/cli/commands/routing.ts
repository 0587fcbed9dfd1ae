/**
 * `warren routing explain TASK`: the scorecard of every candidate the scheduler weighed for a task, and why
 * the winner won — for each attempt as stored on it, and for a queued task as the scheduler sees it now.
 */
import type { Command } from 'commander';
import type { RoutingDecisionRecord } from '../../core/api.ts';
import { formatScorecardTable } from '../../core/routing-score.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { connect, withHubOptions } from '../connect.ts';
import { paint, printJson } from '../output.ts';

/** Registers the `routing` command group. */
export function registerRoutingCommands(program: Command): void {
  const routing = program.command('routing').description('fleet routing: why tasks go where they go');

  withHubOptions(
    routing
      .command('explain')
      .argument('<task>', 'task id')
      .description('print the scorecard of every candidate for a task and why the winner won'),
  ).action(async (taskId: string, options: GlobalOptions) => {
    const answer = await connect(options).tasks.routing(taskId);
    if (options.json) return printJson(answer);
    const sections: string[] = [`${answer.task.id}  ${answer.task.title}  (${answer.task.state})`];
    for (const attempt of answer.attempts) {
      const heading = `attempt ${attempt.number} (${attempt.state}) on ${attempt.agent ? `${attempt.agent}@` : ''}${attempt.runnerId}`;
      sections.push(
        attempt.routing
          ? `${paint('bold', heading)}, decided ${attempt.routing.decidedAt}\n${describeDecision(attempt.routing)}`
          : `${paint('bold', heading)}: no routing record (claimed before fleet routing, or imported)`,
      );
    }
    if (answer.now) sections.push(`${paint('bold', 'if claimed now')}\n${describeDecision(answer.now)}`);
    else if (answer.attempts.length === 0) sections.push('not queued yet: no decision to show');
    process.stdout.write(`${sections.join('\n\n')}\n`);
  });
}

function describeDecision(record: RoutingDecisionRecord): string {
  const winner = record.cards.find(
    (card) => `${card.agent ? `${card.agent}@` : ''}${card.runnerName}` === record.winner,
  );
  const table = formatScorecardTable({
    ...(winner ? { winner } : {}),
    reason: record.reason,
    cards: record.cards,
  });
  const capabilities =
    record.taskCapabilities.length > 0 ? `weighed capabilities: ${record.taskCapabilities.join(', ')}\n` : '';
  const notes = [
    ...(record.deferralExpired ? ['(the best candidate left it waiting too long)'] : []),
    ...(record.laneShare
      ? ["(claimed ahead of higher lanes' work: its lane was owed its share of claims)"]
      : []),
  ];
  return [`${capabilities}${table}`, ...notes].join('\n');
}
