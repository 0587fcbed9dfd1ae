import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './create-logger.ts';

function captureLines(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes JSON lines with every token redacted', () => {
    const { lines, destination } = captureLines();
    const logger = createLogger({ level: 'info', destination });
    logger.info(
      {
        authorization: 'Bearer wrn_admin_secret1',
        adminToken: 'wrn_admin_secret2',
        leaseToken: 'lease_secret3',
        request: { headers: { authorization: 'Bearer wrn_runner_secret4' }, token: 'wrn_runner_secret5' },
        body: { leaseToken: 'lease_secret6' },
        attemptId: 'att_1',
      },
      'something happened',
    );
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).not.toMatch(/secret/);
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({ msg: 'something happened', attemptId: 'att_1', leaseToken: '[redacted]' });
    expect(parsed.body.leaseToken).toBe('[redacted]');
  });

  it('writes nothing when silent', () => {
    const { lines, destination } = captureLines();
    createLogger({ level: 'silent', destination }).error({ problem: true }, 'dropped');
    expect(lines).toEqual([]);
  });
});
