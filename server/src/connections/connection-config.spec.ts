import { describe, expect, it } from 'vitest';
import { configPositions, configValueProblem } from './connection-config';

describe('connection config in URLs', () => {
  const definition = {
    auth: {
      type: 'oauth2' as const,
      authorizationUrl: 'https://{{subdomain}}.example.com/oauth/authorize',
      tokenUrl: 'https://login.example.com/{{tenant}}/token',
      scopes: [],
      refreshable: true,
    },
    baseUrl: '{{instance_url}}/api',
    baseUrls: { files: 'https://files.{{region}}.example.com/v1/{{account}}' },
  };

  it('finds which values land in a host and which in a path; a whole-URL value is neither', () => {
    const positions = configPositions(definition);
    expect(Object.fromEntries(positions)).toEqual({ subdomain: 'host', tenant: 'path', region: 'host', account: 'path' });
  });

  it('keeps a host part a host name and a path part one segment', () => {
    expect(configValueProblem('host', 'acme')).toBeUndefined();
    expect(configValueProblem('host', 'gitlab.acme.com:8443')).toBeUndefined();
    for (const bad of ['evil.example/#', 'evil.example?', 'a@evil.example', 'acme ', '', '-acme', 'acme.example.com/x']) {
      expect(configValueProblem('host', bad), bad).toContain('host name');
    }
    expect(configValueProblem('path', 'common')).toBeUndefined();
    expect(configValueProblem('path', '3f2a-9c.example.onmicrosoft.com')).toBeUndefined();
    for (const bad of ['a/b', '..', 'x?y', 'x#', 'a%2Fb']) expect(configValueProblem('path', bad), bad).toContain('path segment');
    expect(configValueProblem(undefined, 'anything/at all')).toBeUndefined();
  });
});
