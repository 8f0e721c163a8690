import { describe, expect, it } from 'vitest';
import { isPublicAddress, OutboundGuard, parseAllowlist } from './outbound-guard';

describe('outbound guard', () => {
  it.each([
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:127.0.0.1', false],
    ['8.8.8.8', true],
    ['2606:4700:4700::1111', true],
  ])('%s public=%s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it('refuses private IP literals unless allowlisted, port included', () => {
    const guard = new OutboundGuard(parseAllowlist('127.0.0.1:4010, 10.0.0.0/8'));
    expect(() => guard.assertUrl(new URL('http://169.254.169.254/latest/meta-data'))).toThrow(/169.254.169.254/);
    expect(() => guard.assertUrl(new URL('http://127.0.0.1:5432/'))).toThrow(/blocked/);
    expect(() => guard.assertUrl(new URL('http://[::1]:4010/'))).toThrow(/blocked/);
    expect(() => guard.assertUrl(new URL('file:///etc/passwd'))).toThrow(/only http/);
    expect(() => guard.assertUrl(new URL('http://127.0.0.1:4010/slack'))).not.toThrow();
    expect(() => guard.assertUrl(new URL('http://10.9.8.7/'))).not.toThrow();
    expect(() => guard.assertUrl(new URL('https://8.8.8.8/'))).not.toThrow();
  });

  it('refuses names that resolve to private addresses at connect time', async () => {
    const guard = new OutboundGuard([]);
    const result = await new Promise<unknown>((resolve) => guard.lookupFor(80)('localhost', {}, (error) => resolve(error)));
    expect(result).toMatchObject({ code: 'EPRIVATE' });
  });

  it('names a bad allowlist entry', () => {
    expect(() => parseAllowlist('not-an-ip')).toThrow(/not-an-ip/);
  });
});
