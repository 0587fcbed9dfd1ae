import { describe, expect, it } from 'vitest';
import {
  environmentForServer,
  grantedSecretValues,
  grantedVariables,
  grantsForServer,
  headersForServer,
  type GrantSecrets,
} from './grant-environment.ts';
import {
  mcpServerConfigSchema,
  type HttpMcpServerConfig,
  type StdioMcpServerConfig,
} from './mcp-server-config.ts';
import { redactSecrets } from '../../redact-secrets.ts';

const grantSecrets: GrantSecrets = {
  'github:read': { GITHUB_TOKEN: 'ghp_read_token' },
  'github:write': { GITHUB_TOKEN: 'ghp_write_token', GITHUB_WRITE: '1' },
  'npm:publish': { NPM_TOKEN: 'npm_token_value' },
};
const baseEnv = { PATH: '/usr/bin:/bin', HOME: '/home/task', TMPDIR: '/tmp', LANG: 'C.UTF-8' };

function stdioServer(fields: Record<string, unknown>): StdioMcpServerConfig {
  return mcpServerConfigSchema.parse({ name: 'tools', command: 'x', ...fields }) as StdioMcpServerConfig;
}
function httpServer(fields: Record<string, unknown>): HttpMcpServerConfig {
  return mcpServerConfigSchema.parse({
    name: 'remote',
    url: 'https://x.test/mcp',
    ...fields,
  }) as HttpMcpServerConfig;
}

describe('grantsForServer', () => {
  it('gives the grants both asked for by the server and held by the task', () => {
    expect(grantsForServer({ grants: ['github:read', 'npm:publish'] }, ['github:read', 'other'])).toEqual([
      'github:read',
    ]);
    expect(grantsForServer({ grants: ['github:read'] }, [])).toEqual([]);
    expect(grantsForServer({}, ['github:read'])).toEqual([]);
  });
});

describe('environmentForServer', () => {
  it('is the base environment, the plain env and the variables of the grants both sides have', () => {
    const server = stdioServer({ env: { LOG_LEVEL: 'debug' }, grants: ['github:read', 'npm:publish'] });
    expect(environmentForServer({ server, taskGrants: ['github:read'], grantSecrets, baseEnv })).toEqual({
      ...baseEnv,
      LOG_LEVEL: 'debug',
      GITHUB_TOKEN: 'ghp_read_token',
    });
  });

  it('gives nothing for a grant the task lacks or the server did not ask for', () => {
    const asking = stdioServer({ grants: ['github:read'] });
    expect(environmentForServer({ server: asking, taskGrants: [], grantSecrets, baseEnv })).toEqual(baseEnv);
    const notAsking = stdioServer({});
    expect(
      environmentForServer({ server: notAsking, taskGrants: ['github:read'], grantSecrets, baseEnv }),
    ).toEqual(baseEnv);
  });

  it('never reads process.env', () => {
    process.env.WARREN_TEST_RUNNER_SECRET = 'runner-only';
    try {
      const env = environmentForServer({ server: stdioServer({}), taskGrants: [], grantSecrets, baseEnv });
      expect(env).not.toHaveProperty('WARREN_TEST_RUNNER_SECRET');
      expect(Object.keys(env).sort()).toEqual(['HOME', 'LANG', 'PATH', 'TMPDIR']);
    } finally {
      delete process.env.WARREN_TEST_RUNNER_SECRET;
    }
  });

  it('lets the plain env override the base and the grants override both; a later grant wins', () => {
    const server = stdioServer({
      env: { PATH: '/opt/bin', GITHUB_TOKEN: 'placeholder' },
      grants: ['github:read', 'github:write'],
    });
    expect(
      environmentForServer({ server, taskGrants: ['github:read', 'github:write'], grantSecrets, baseEnv }),
    ).toMatchObject({ PATH: '/opt/bin', GITHUB_TOKEN: 'ghp_write_token', GITHUB_WRITE: '1' });
  });

  it('gives nothing for a held grant the runner has no secrets for', () => {
    const server = stdioServer({ grants: ['network'] });
    expect(grantedVariables({ server, taskGrants: ['network'], grantSecrets })).toEqual({});
  });
});

describe('headersForServer', () => {
  it('resolves ${VAR} from the variables granted to the server', () => {
    const server = httpServer({
      headers: { Authorization: 'Bearer ${GITHUB_TOKEN}', 'X-Plain': 'value $NOT_A_REFERENCE' },
      grants: ['github:read'],
    });
    expect(headersForServer({ server, taskGrants: ['github:read'], grantSecrets })).toEqual({
      success: true,
      headers: { Authorization: 'Bearer ghp_read_token', 'X-Plain': 'value $NOT_A_REFERENCE' },
    });
  });

  it('refuses a reference the server is not granted, naming the server, header and variable', () => {
    const server = httpServer({
      headers: { Authorization: 'Bearer ${GITHUB_TOKEN}' },
      grants: ['github:read'],
    });
    const result = headersForServer({ server, taskGrants: [], grantSecrets });
    expect(result).toEqual({ success: false, error: expect.stringContaining('MCP server "remote"') });
    if (result.success) return;
    expect(result.error).toContain('header "Authorization"');
    expect(result.error).toContain('${GITHUB_TOKEN}');
    expect(result.error).toContain('granted: none');
    // A variable of a grant the task holds but the server did not ask for is not looked up either.
    const notAsking = httpServer({ headers: { Authorization: 'Bearer ${NPM_TOKEN}' } });
    expect(headersForServer({ server: notAsking, taskGrants: ['npm:publish'], grantSecrets }).success).toBe(
      false,
    );
  });
});

describe('grantedSecretValues', () => {
  it('lists the values the servers receive, longest first, without duplicates', () => {
    const servers = [
      stdioServer({ name: 'a', grants: ['github:read', 'npm:publish'] }),
      stdioServer({ name: 'b', grants: ['github:read'] }),
      stdioServer({ name: 'c', grants: ['github:write'] }),
    ];
    expect(
      grantedSecretValues({ servers, taskGrants: ['github:read', 'npm:publish'], grantSecrets }),
    ).toEqual(['npm_token_value', 'ghp_read_token']);
  });
});

describe('redactSecrets', () => {
  it('replaces every occurrence, longest value first, also inside JSON strings', () => {
    expect(
      redactSecrets('token ghp_read_token and ghp_read_token_long', [
        'ghp_read_token',
        'ghp_read_token_long',
      ]),
    ).toBe('token [REDACTED] and [REDACTED]');
    const quoted = 'pa"ss\\word';
    expect(redactSecrets(JSON.stringify({ value: quoted }), [quoted])).toBe('{"value":"[REDACTED]"}');
    expect(redactSecrets('nothing here', ['', 'secret'])).toBe('nothing here');
  });
});
