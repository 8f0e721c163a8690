import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * What a ciphertext is bound to: decrypting it under any other binding fails. Use the owning
 * tenant, the table and column, and the row id, so a value copied to another row or tenant is
 * useless.
 */
export interface VaultBinding {
  tenantId: string;
  purpose: string;
  rowId: string;
}

const VERSION = 'v1';
const IV_BYTES = 12;

/** A key id that names a key without revealing it: the first 8 hex digits of its SHA-256. */
export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

const aad = (binding: VaultBinding) => Buffer.from(`${VERSION}|${binding.tenantId}|${binding.purpose}|${binding.rowId}`, 'utf8');

/**
 * AES-256-GCM envelope for secrets at rest: `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts).
 * Encrypts with the current master key; decrypts with it or any previous key still configured,
 * so keys rotate without downtime (`switchboard vault rotate` re-encrypts old values).
 */
export class Vault {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(current: Buffer, previous: Buffer[] = []) {
    for (const key of [current, ...previous]) {
      if (key.length !== 32) throw new Error('Vault keys must be 32 bytes');
      this.keys.set(keyIdOf(key), key);
    }
    this.currentKeyId = keyIdOf(current);
  }

  encrypt(plaintext: string, binding: VaultBinding): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(aad(binding));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.currentKeyId, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  decrypt(envelope: string, binding: VaultBinding): string {
    const [version, keyId, iv, body, tag] = envelope.split('.');
    if (version !== VERSION || !keyId || iv === undefined || body === undefined || !tag) throw new VaultError('malformed ciphertext');
    const key = this.keys.get(keyId);
    if (!key) throw new VaultError(`ciphertext is under key ${keyId}, which is not configured (MASTER_KEY / MASTER_KEY_PREVIOUS)`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(aad(binding));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // Wrong key, tampered bytes, or a value moved to another row: GCM says no and we say which row.
      throw new VaultError(`ciphertext does not authenticate for ${binding.purpose} ${binding.rowId}`);
    }
  }

  encryptJson(value: unknown, binding: VaultBinding): string {
    return this.encrypt(JSON.stringify(value), binding);
  }

  decryptJson<T>(envelope: string, binding: VaultBinding): T {
    return JSON.parse(this.decrypt(envelope, binding)) as T;
  }

  /** True when the value was encrypted under an older key and should be re-encrypted. */
  isStale(envelope: string): boolean {
    return envelope.split('.')[1] !== this.currentKeyId;
  }
}

export class VaultError extends Error {
  override name = 'VaultError';
}
