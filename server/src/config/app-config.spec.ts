import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './app-config';

const valid = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  MASTER_KEY: randomBytes(32).toString('base64'),
};

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const config = loadConfig(valid);
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      publicUrl: 'http://localhost:3000',
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'sb' },
      bodyLimit: '1mb',
      allowSignup: false,
      login: { maxFailures: 5, lockoutSeconds: 900 },
      invitationTtlSeconds: 72 * 3600,
      failedAttempts: { perIp: 100, windowSeconds: 600 },
    });
    expect(config.masterKey).toHaveLength(32);
  });

  it('parses numbers and booleans and trims a trailing slash off PUBLIC_URL', () => {
    const config = loadConfig({ ...valid, PORT: '8080', ALLOW_SIGNUP: 'true', PUBLIC_URL: 'https://sb.example.com/', TRUST_PROXY: '1' });
    expect(config).toMatchObject({ port: 8080, allowSignup: true, publicUrl: 'https://sb.example.com', trustProxy: true });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ...valid, PORT: '' }).port).toBe(3000);
  });

  it('names every bad variable at once and never prints the master key', () => {
    const secret = 'c2VjcmV0LWJ1dC13cm9uZy1sZW5ndGg=';
    let error: unknown;
    try {
      loadConfig({ MASTER_KEY: secret, PORT: '99999', ALLOW_SIGNUP: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('DATABASE_URL: is required');
    expect(message).toContain('PORT:');
    expect(message).toContain('ALLOW_SIGNUP:');
    expect(message).toContain('MASTER_KEY:');
    expect(message).not.toContain(secret);
  });
});
