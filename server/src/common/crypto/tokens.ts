import { createHash, randomBytes } from 'node:crypto';

/** Token kinds and their prefixes. A prefix tells a leaked secret's kind at a glance (and to secret scanners). */
export const TOKEN_PREFIX = {
  apiKey: 'sk_',
  memberSession: 'msess_',
  invite: 'inv_',
  endUserSession: 'sess_',
} as const;

/** 256 random bits, base64url, behind the kind's prefix and, for tokens that live in one environment, its name (`sk_production_…`). */
export function generateToken(kind: keyof typeof TOKEN_PREFIX, environment?: string): string {
  return TOKEN_PREFIX[kind] + (environment ? `${environment}_` : '') + randomBytes(32).toString('base64url');
}

/**
 * Tokens are high-entropy, so a fast hash is enough to make a stolen table useless;
 * a slow KDF is for passwords only.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
