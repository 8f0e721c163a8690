import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './passwords';
import { generateToken, hashToken } from './tokens';

describe('passwords', () => {
  it('hashes with scrypt and a random salt, and verifies', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('anything', null)).toBe(false);
  });
});

describe('tokens', () => {
  it('are prefixed by kind, 256-bit random, and hash deterministically', () => {
    const token = generateToken('apiKey');
    expect(token).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    expect(generateToken('apiKey')).not.toBe(token);
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
  });
});
