import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, Vault, VaultError } from './vault';

const binding = { tenantId: 't1', purpose: 'connections.credentials', rowId: 'r1' };

describe('Vault', () => {
  const key = randomBytes(32);
  const vault = new Vault(key);

  it('round-trips, with a fresh IV every time and no plaintext in the envelope', () => {
    const a = vault.encrypt('xoxb-secret-token', binding);
    const b = vault.encrypt('xoxb-secret-token', binding);
    expect(a).not.toBe(b);
    expect(a).not.toContain('xoxb');
    expect(a.split('.')).toHaveLength(5);
    expect(a.split('.')[1]).toBe(keyIdOf(key));
    expect(vault.decrypt(a, binding)).toBe('xoxb-secret-token');
    expect(vault.decryptJson(vault.encryptJson({ access: 'x', n: 1 }, binding), binding)).toEqual({ access: 'x', n: 1 });
  });

  it('refuses a ciphertext moved to another row, tenant or purpose', () => {
    const sealed = vault.encrypt('secret', binding);
    expect(() => vault.decrypt(sealed, { ...binding, rowId: 'r2' })).toThrow(VaultError);
    expect(() => vault.decrypt(sealed, { ...binding, tenantId: 't2' })).toThrow(VaultError);
    expect(() => vault.decrypt(sealed, { ...binding, purpose: 'other' })).toThrow(VaultError);
  });

  it('refuses tampered bytes', () => {
    const parts = vault.encrypt('secret', binding).split('.');
    const body = Buffer.from(parts[3], 'base64url');
    body[0] ^= 1;
    parts[3] = body.toString('base64url');
    expect(() => vault.decrypt(parts.join('.'), binding)).toThrow(/does not authenticate/);
  });

  it('rotates: a new key decrypts values under a previous key and marks them stale', () => {
    const old = vault.encrypt('secret', binding);
    const rotated = new Vault(randomBytes(32), [key]);
    expect(rotated.decrypt(old, binding)).toBe('secret');
    expect(rotated.isStale(old)).toBe(true);
    expect(rotated.isStale(rotated.encrypt('secret', binding))).toBe(false);
    expect(() => new Vault(randomBytes(32)).decrypt(old, binding)).toThrow(/not configured/);
  });
});
