import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitAll } from './commit.ts';
import { ensureMirror, fetchMirror, resolveBaseRef } from './mirror.ts';
import { createKeyedLock } from './repo-lock.ts';
import { scanForSecrets } from './secret-scan.ts';
import { createGitSandbox } from './testing/create-git-sandbox.ts';
import type { FileContents, GitSandbox } from './testing/create-git-sandbox.ts';
import { createWorktree } from './worktree.ts';
import type { Worktree } from './worktree.ts';

// Fake secrets are assembled at run time so that this file itself does not look like a leak to
// scanners (ours, GitHub push protection).
const random = [
  'Zx9',
  'Lm2Q',
  'v8Rt',
  'K4pW',
  'n1Ys',
  'Be6H',
  'u3Jd',
  'F7gC',
  'o5Ta',
  'M0kX',
  'r2Vb',
  'e9Nq',
].join('');
const fake = {
  aws: ['AKIA', 'Q7ZX4L2MV8RT3KPW'].join(''),
  github: ['ghp', '_', random.slice(0, 36)].join(''),
  githubFineGrained: ['github', '_pat_', '11AB7CDEF0', '_', random, random.slice(0, 10)].join(''),
  anthropic: ['sk', '-ant-', 'api03-', random, '-', random.slice(0, 20)].join(''),
  openai: ['sk', '-proj-', random, random.slice(0, 12)].join(''),
  slack: ['xo', 'xb-', '2448610571', '-', '5139402981', '-', random.slice(0, 24)].join(''),
  privateKeyHeader: ['-----BEGIN RSA ', 'PRIVATE KEY-----'].join(''),
  privateKeyFooter: ['-----END RSA ', 'PRIVATE KEY-----'].join(''),
  base64Line: 'MIIEowIBAAKCAQEA7r9Qz1Xo4Ym3bUu0G5q8V2nH6tK9sLdPfWcJe1RiZaTxOyNg',
};

describe('scanForSecrets', () => {
  let sandbox: GitSandbox;
  let worktree: Worktree;
  beforeEach(async () => {
    sandbox = await createGitSandbox();
    const lock = createKeyedLock();
    // A secret already in the base commit is not the task's doing and is not reported.
    const source = await sandbox.createSourceRepo({
      files: { 'legacy.env': `AWS_KEY=${fake.aws}\n`, 'src/app.ts': 'export const app = 1;\n' },
    });
    const mirror = await ensureMirror({ sourceRepo: source, cacheDir: sandbox.path('cache'), lock });
    await fetchMirror(mirror, { lock });
    const base = await resolveBaseRef(mirror);
    worktree = await createWorktree({
      mirror,
      lock,
      baseRef: base.ref,
      branch: 'warren/scan',
      path: sandbox.path('worktrees', 'scan'),
    });
  });
  afterEach(async () => {
    await sandbox.cleanup();
  });

  const commitFiles = async (files: FileContents) => {
    for (const [relative, contents] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(worktree.path, relative)), { recursive: true });
      await writeFile(path.join(worktree.path, relative), contents);
    }
    await commitAll({ worktreePath: worktree.path, message: 'task' });
    return scanForSecrets({ worktreePath: worktree.path, baseSha: worktree.baseSha });
  };

  it('finds each kind of secret on the line where it was added, masked', async () => {
    const findings = await commitFiles({
      'src/app.ts': [
        'export const app = 1;',
        `const aws = '${fake.aws}';`,
        `const gh = "${fake.github}";`,
        `const fineGrained = "${fake.githubFineGrained}";`,
        `const anthropic = '${fake.anthropic}';`,
        `const openai = '${fake.openai}';`,
        `const slack = '${fake.slack}';`,
        `const db = { password: "${random.slice(0, 20)}" };`,
        '',
      ].join('\n'),
      'config/.env': `export DB_PASSWORD=${random.slice(4, 28)}!\n`,
      'keys/id_rsa': [fake.privateKeyHeader, fake.base64Line, fake.privateKeyFooter, ''].join('\n'),
      'legacy.env': `AWS_KEY=${fake.aws}\nREGION=eu-west-1\n`,
    });

    const summary = findings.map((finding) => `${finding.file}:${finding.line} ${finding.rule}`);
    expect(summary).toEqual([
      'config/.env:1 generic-secret',
      'keys/id_rsa:1 private-key',
      'src/app.ts:2 aws-access-key-id',
      'src/app.ts:3 github-token',
      'src/app.ts:4 github-token',
      'src/app.ts:5 anthropic-api-key',
      'src/app.ts:6 openai-api-key',
      'src/app.ts:7 slack-token',
      'src/app.ts:8 generic-secret',
    ]);
    const excerptOf = (line: number) =>
      findings.find((finding) => finding.line === line && finding.file === 'src/app.ts')?.excerpt;
    expect(excerptOf(2)).toBe("const aws = 'AKIA****';");
    expect(excerptOf(3)).toBe('const gh = "ghp_****";');
    expect(excerptOf(5)).toBe("const anthropic = 'sk-a****';");
    expect(excerptOf(8)).toBe(`const db = { password: "${random.slice(0, 4)}****" };`);
    expect(findings.find((finding) => finding.rule === 'private-key')?.excerpt).toBe(
      `${fake.privateKeyHeader}****`,
    );

    const everything = JSON.stringify(findings);
    for (const secret of [
      fake.aws,
      fake.github,
      fake.anthropic,
      fake.openai,
      fake.slack,
      random.slice(0, 20),
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('masks every secret on a line and the key body that follows a header inline', async () => {
    const findings = await commitFiles({
      'src/keys.ts': `export const pair = ['${fake.aws}', '${fake.github}'];\nexport const pem = "${fake.privateKeyHeader}\\n${fake.base64Line}";\n`,
    });
    expect(findings.map((finding) => finding.rule)).toEqual([
      'aws-access-key-id',
      'github-token',
      'private-key',
    ]);
    expect(findings[0]?.excerpt).toBe("export const pair = ['AKIA****', 'ghp_****...");
    expect(findings[1]?.excerpt).toBe("...const pair = ['AKIA****', 'ghp_****'];");
    expect(findings[2]?.excerpt).not.toContain(fake.base64Line.slice(0, 10));
  });

  it('reports nothing for ordinary code and look-alikes', async () => {
    const findings = await commitFiles({
      'src/ordinary.ts': [
        "import { z } from 'zod';",
        'const password = process.env.DB_PASSWORD;',
        'const tokenCount = 42;',
        'const maxTokens = 4096;',
        "const secretName = 'projects/my-project/secrets/db-password';",
        'const apiKey = "YOUR_API_KEY_HERE_PLEASE";',
        'const token = `${prefix}-${sessionIdentifier}`;',
        "const awsExample = 'AKIAIOSFODNN7EXAMPLE';",
        "const library = 'sk-learn-is-a-python-library-name';",
        `if (pem.startsWith('${fake.privateKeyHeader}')) parsePem(pem);`,
        'const schema = z.object({ password: z.string().min(12), token: z.string() });',
        "const tokenizerModel = 'cl100k_base';",
        "const csrfTokenHeader = 'X-CSRF-Token-Header';",
        "const authTokenUrl = 'https://auth.example.org/oauth2/token';",
        "const passwordHint = 'at-least-twelve-characters';",
        '',
      ].join('\n'),
      'config/settings.ini': 'token_endpoint=/oauth/token\npassword_min_length=12\nsecret_store=vault\n',
      'README.md':
        '# Setup\n\nSet `OPENAI_API_KEY=sk-...` and `password: "changeme123456789"` in your config.\n',
    });
    expect(findings).toEqual([]);
  });

  it('returns nothing when HEAD is the base commit', async () => {
    expect(await scanForSecrets({ worktreePath: worktree.path, baseSha: worktree.baseSha })).toEqual([]);
  });
});
