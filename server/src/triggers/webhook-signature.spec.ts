import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors/app-error';
import { hmacScheme } from './webhook-signature';
import { parseBody, safeHeaders } from './webhook-trigger.service';

const secret = 'whks_test-secret';
const body = Buffer.from('{"action":"opened"}');
const sign = (algorithm: 'sha256' | 'sha1', encoding: 'hex' | 'base64') => createHmac(algorithm, secret).update(body).digest(encoding);

describe('webhook signatures (verify)', () => {
  it('accepts the HMAC of the exact body in the named header, with its prefix', () => {
    const scheme = hmacScheme({ header: 'X-Hub-Signature-256', prefix: 'sha256=' });
    expect(scheme.check({ rawBody: body, headers: { 'x-hub-signature-256': `sha256=${sign('sha256', 'hex')}` } }, secret)).toBeNull();
    const b64 = hmacScheme({ header: 'X-Signature', algorithm: 'sha1', encoding: 'base64' });
    expect(b64.check({ rawBody: body, headers: { 'x-signature': sign('sha1', 'base64') } }, secret)).toBeNull();
  });

  it('refuses a missing, malformed, wrongly keyed or replayed-on-other-bytes signature', () => {
    const scheme = hmacScheme({ header: 'X-Signature', prefix: 'sha256=' });
    const check = (headers: Record<string, string>, raw = body) => scheme.check({ rawBody: raw, headers }, secret);
    expect(check({})).toBe('the X-Signature header is missing');
    expect(check({ 'x-signature': sign('sha256', 'hex') })).toBe('the X-Signature header does not match'); // no prefix
    expect(check({ 'x-signature': 'sha256=zz' })).toBe('the X-Signature header does not match');
    expect(check({ 'x-signature': `sha256=${createHmac('sha256', 'other').update(body).digest('hex')}` })).toBe('the X-Signature header does not match');
    expect(check({ 'x-signature': `sha256=${sign('sha256', 'hex')}` }, Buffer.from('{"action":"closed"}'))).toBe('the X-Signature header does not match');
  });
});

describe('webhook bodies and headers', () => {
  it('parses JSON, forms (repeated fields become lists) and text; no body is null', () => {
    expect(parseBody(Buffer.from('{"a":[1,2]}'), 'application/json; charset=utf-8')).toEqual({ a: [1, 2] });
    expect(parseBody(Buffer.from('{"a":1}'), 'application/vnd.api+json')).toEqual({ a: 1 });
    expect(parseBody(Buffer.from('name=Ada+L&tag=a&tag=b&__proto__=x'), 'application/x-www-form-urlencoded')).toEqual(
      JSON.parse('{"name":"Ada L","tag":["a","b"],"__proto__":"x"}'),
    );
    expect(parseBody(Buffer.from('<ping/>'), 'text/xml')).toBe('<ping/>');
    expect(parseBody(Buffer.alloc(0), undefined)).toBeNull();
  });

  it('refuses malformed JSON and unsupported types with a clear error', () => {
    expect(() => parseBody(Buffer.from('{"a":'), 'application/json')).toThrow(AppError);
    expect(() => parseBody(Buffer.from('{"a":'), 'application/json')).toThrow(/not valid JSON/);
    expect(() => parseBody(Buffer.from([1, 2, 3]), 'application/octet-stream')).toThrow(/got application\/octet-stream/);
  });

  it('keeps useful headers and drops credentials and hop-by-hop ones', () => {
    expect(
      safeHeaders({
        'x-github-event': 'push',
        'content-type': 'application/json',
        authorization: 'Bearer x',
        cookie: 'a=b',
        host: 'h',
        'x-forwarded-for': '10.0.0.1',
        accept: ['a', 'b'],
      }),
    ).toEqual({ 'x-github-event': 'push', 'content-type': 'application/json', accept: 'a, b' });
  });
});
