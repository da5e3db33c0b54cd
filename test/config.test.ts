import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

const KEY = Buffer.alloc(32, 1).toString('base64');
const KEY2 = Buffer.alloc(32, 2).toString('base64');

/** A refusal is a ConfigError whose sentence names the variable to fix. */
function refused(env: Record<string, string>, variable: string) {
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => error instanceof ConfigError && error.message.includes(variable),
    `${JSON.stringify(env)} should be refused, naming ${variable}`,
  );
}

describe('configuration from the environment (SPEC 8.1)', () => {
  test('an empty environment takes the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.publicOrigin, 'http://localhost:3000');
    assert.equal(config.secureCookies, false);
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.dataDir, path.resolve('./data'));
    assert.equal(config.masterKey, undefined);
    assert.equal(config.smtpUrl, undefined);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.production, false);
  });

  test('PUBLIC_URL defaults to localhost on the configured PORT', () => {
    assert.equal(loadConfig({ PORT: '8080' }).publicUrl, 'http://localhost:8080');
  });

  test('the configuration is frozen', () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
  });

  test('production refuses to start without MASTER_KEY', () => {
    refused({ NODE_ENV: 'production' }, 'MASTER_KEY');
    refused({ NODE_ENV: 'production', MASTER_KEY: '   ' }, 'MASTER_KEY');
  });

  test('production starts with a MASTER_KEY', () => {
    const config = loadConfig({ NODE_ENV: 'production', MASTER_KEY: KEY });
    assert.equal(config.production, true);
    assert.equal(config.masterKey, KEY);
  });

  test('outside production a missing MASTER_KEY is allowed (a key file is generated instead)', () => {
    assert.equal(loadConfig({ NODE_ENV: 'development' }).masterKey, undefined);
  });

  test('a MASTER_KEY that is not base64 of 32 bytes, or a malformed key list, is refused', () => {
    for (const value of [
      'not-a-key',
      Buffer.alloc(16, 1).toString('base64'),
      Buffer.alloc(33, 1).toString('base64'),
      `v1:${KEY},v1:${KEY2}`,
      `x1:${KEY}`,
      `${KEY},${KEY2}`,
      `v2:${KEY},v1:short`,
    ]) {
      refused({ MASTER_KEY: value }, 'MASTER_KEY');
      refused({ NODE_ENV: 'production', MASTER_KEY: value }, 'MASTER_KEY');
    }
  });

  test('a versioned MASTER_KEY list is accepted', () => {
    assert.equal(loadConfig({ MASTER_KEY: `v2:${KEY2},v1:${KEY}` }).masterKey, `v2:${KEY2},v1:${KEY}`);
  });

  test('a PORT that is not a whole number from 0 to 65535 is refused', () => {
    for (const value of ['abc', '70000', '65536', '-1', '80.5', '3000abc', '0x50', '1e3']) refused({ PORT: value }, 'PORT');
  });

  test('a blank PORT takes the default', () => {
    assert.equal(loadConfig({ PORT: '' }).port, 3000);
    assert.equal(loadConfig({ PORT: '  ' }).port, 3000);
    assert.equal(loadConfig({ PORT: '0' }).port, 0);
    assert.equal(loadConfig({ PORT: '65535' }).port, 65535);
  });

  test('a PUBLIC_URL that is not an absolute http(s) URL without query or fragment is refused', () => {
    for (const value of ['localhost:3000', 'not a url', 'ftp://id.example.com', 'https://id.example.com/?next=x', 'https://id.example.com/#x']) {
      refused({ PUBLIC_URL: value }, 'PUBLIC_URL');
    }
  });

  test('an https PUBLIC_URL makes cookies Secure; a trailing slash is dropped', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://id.example.com/' });
    assert.equal(config.publicUrl, 'https://id.example.com');
    assert.equal(config.publicOrigin, 'https://id.example.com');
    assert.equal(config.secureCookies, true);
    const behindPath = loadConfig({ PUBLIC_URL: 'https://example.com/identity/' });
    assert.equal(behindPath.publicUrl, 'https://example.com/identity');
    assert.equal(behindPath.publicOrigin, 'https://example.com');
  });

  test('DATABASE_URL must be postgres, SMTP_URL smtp(s), LOG_LEVEL a pino level, rate limits whole numbers', () => {
    refused({ DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL');
    refused({ SMTP_URL: 'http://mail.example.com' }, 'SMTP_URL');
    refused({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL');
    refused({ RATE_LIMIT_SIGNIN_PER_MINUTE: '0' }, 'RATE_LIMIT_SIGNIN_PER_MINUTE');
    refused({ RATE_LIMIT_FAILED_SIGNINS_PER_EMAIL: 'many' }, 'RATE_LIMIT_FAILED_SIGNINS_PER_EMAIL');
    const config = loadConfig({
      DATABASE_URL: 'postgres://db.example.com/jams',
      SMTP_URL: 'smtps://u:p@mail.example.com:465',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_SIGNIN_PER_MINUTE: '7',
      RATE_LIMIT_FAILED_SIGNINS_PER_EMAIL: '3',
    });
    assert.equal(config.databaseUrl, 'postgres://db.example.com/jams');
    assert.equal(config.smtpUrl, 'smtps://u:p@mail.example.com:465');
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.signInPerIpPerMinute, 7);
    assert.equal(config.failedSignInsPerEmail, 3);
  });
});
