import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  connectorManifest,
  DEFAULT_MIN_POLL_SECONDS,
  connectors,
  connectorSchema,
  ConnectorDefinition,
  OAuth2Auth,
  sandboxConnectors,
  templateVariables,
  withSandbox,
} from './index';

function ajv() {
  const a = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(a);
  a.addKeyword({ keyword: 'x-options', schemaType: 'string' });
  return a;
}

const all = Object.entries(connectors) as [string, ConnectorDefinition][];

function walk(schema: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(schema)) return schema.forEach((s) => walk(s, visit));
  if (schema && typeof schema === 'object') {
    visit(schema as Record<string, unknown>);
    for (const v of Object.values(schema)) walk(v, visit);
  }
}

describe('connector catalogue', () => {
  it('has the connectors the product promises', () => {
    expect(Object.keys(connectors).sort()).toEqual([
      'airtable',
      'asana',
      'github',
      'gmail',
      'google-calendar',
      'google-sheets',
      'http',
      'hubspot',
      'intercom',
      'jira',
      'linear',
      'microsoft-teams',
      'notion',
      'outlook',
      'pipedrive',
      'salesforce',
      'shopify',
      'slack',
      'stripe',
      'zendesk',
    ]);
  });

  it('keys are unique, kebab-case and match the record key; names are unique', () => {
    const names = new Set<string>();
    for (const [key, c] of all) {
      expect(c.key).toBe(key);
      expect(key).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      expect(names.has(c.name)).toBe(false);
      names.add(c.name);
    }
  });

  it('the connector schema itself compiles', () => {
    expect(() => ajv().compile(connectorSchema)).not.toThrow();
  });
});

describe.each(all)('%s', (key, connector) => {
  const manifest = connectorManifest(connector);

  it('matches connectorSchema', () => {
    const validate = ajv().compile(connectorSchema);
    const ok = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('has at least two actions with compiling input/output schemas and snake_case keys', () => {
    const a = ajv();
    expect(Object.keys(connector.actions).length).toBeGreaterThanOrEqual(2);
    for (const [actionKey, action] of Object.entries(connector.actions)) {
      expect(actionKey).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      expect(typeof action.run).toBe('function');
      expect(() => a.compile(action.input), `${key}.${actionKey} input`).not.toThrow();
      expect(() => a.compile(action.output), `${key}.${actionKey} output`).not.toThrow();
      expect(action.input.type).toBe('object');
    }
  });

  it('triggers: poll ones have an interval at or above their minimum, webhook ones name events and need the webhooks scheme; inputs compile', () => {
    const a = ajv();
    for (const [triggerKey, trigger] of Object.entries(connector.triggers ?? {})) {
      expect(triggerKey).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      if (trigger.input) expect(() => a.compile(trigger.input!), `${key}.${triggerKey} input`).not.toThrow();
      expect(() => a.compile(trigger.output), `${key}.${triggerKey} output`).not.toThrow();
      if (trigger.kind === 'poll') {
        expect(typeof trigger.poll).toBe('function');
        expect(trigger.intervalSeconds).toBeGreaterThanOrEqual(trigger.minIntervalSeconds ?? DEFAULT_MIN_POLL_SECONDS);
      } else {
        expect(trigger.events.length, `${key}.${triggerKey} events`).toBeGreaterThan(0);
        expect(typeof trigger.map).toBe('function');
        expect(connector.webhooks, `${key} has webhook triggers but no webhooks scheme`).toBeDefined();
      }
      walk(trigger.input ?? {}, (node) => {
        if (typeof node['x-options'] === 'string') expect(Object.keys(connector.options ?? {})).toContain(node['x-options']);
      });
    }
    if (connector.webhooks?.routing === 'app') expect(typeof connector.webhooks.accountKey === 'function' || connector.webhooks.accountKey === undefined).toBe(true);
    if (connector.webhooks?.routing === 'instance') expect(typeof connector.webhooks.subscribe).toBe('function');
  });

  it('x-options annotations name existing option sources', () => {
    for (const action of Object.values(connector.actions)) {
      walk(action.input, (node) => {
        if (typeof node['x-options'] === 'string') expect(Object.keys(connector.options ?? {})).toContain(node['x-options']);
      });
    }
    for (const [k, o] of Object.entries(connector.options ?? {})) {
      expect(k).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      expect(typeof o.run).toBe('function');
    }
  });

  it('has an account() and an option source where the provider has one', () => {
    expect(typeof connector.account).toBe('function');
    if (key !== 'http') expect(Object.keys(connector.options ?? {}).length).toBeGreaterThanOrEqual(1);
  });

  it('uses https for every absolute URL', () => {
    const urls = [connector.baseUrl, ...Object.values(connector.baseUrls ?? {}), connector.docsUrl];
    if (connector.auth.type === 'oauth2') urls.push(connector.auth.authorizationUrl, connector.auth.tokenUrl);
    for (const url of urls) {
      if (url.startsWith('{{')) continue;
      expect(url).toMatch(/^https:\/\//);
      expect(() => new URL(url)).not.toThrow();
    }
  });

  it('declares every {{config}} variable it uses, and maps every fromToken field', () => {
    const declared = Object.keys(connector.connectionConfig ?? {});
    const templated = [connector.baseUrl, ...Object.values(connector.baseUrls ?? {})];
    for (const spec of [connector.auth, ...(connector.authSpecs ?? [])]) {
      if (spec.type === 'oauth2') templated.push(spec.authorizationUrl, spec.tokenUrl);
      if (spec.type === 'oauth2_client_credentials') templated.push(spec.tokenUrl);
      if (spec.type === 'api_key') templated.push(spec.name, spec.prefix ?? '');
    }
    for (const t of templated) for (const v of templateVariables(t)) expect(declared, `{{${v}}}`).toContain(v);
    const fromToken = Object.entries(connector.connectionConfig ?? {})
      .filter(([, f]) => f.fromToken)
      .map(([k]) => k);
    const mapped = connector.auth.type === 'oauth2' ? Object.keys(connector.auth.connectionConfigFromToken ?? {}) : [];
    expect(mapped.sort()).toEqual(fromToken.sort());
  });

  it('oauth2: token URL, scopes and refresh behaviour are declared', () => {
    if (connector.auth.type !== 'oauth2') return;
    const auth: OAuth2Auth = connector.auth;
    expect(auth.tokenUrl).toMatch(/^https:\/\//);
    expect(auth.authorizationUrl).toMatch(/^https:\/\//);
    expect(new Set(auth.scopes).size).toBe(auth.scopes.length);
    expect(typeof auth.refreshable).toBe('boolean');
  });

  it('has a small, script-free SVG logo', () => {
    expect(connector.logo).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*viewBox="[^"]+"/);
    expect(connector.logo.endsWith('</svg>')).toBe(true);
    expect(connector.logo.length).toBeLessThan(4096);
    expect(connector.logo).not.toMatch(/<script|\son[a-z]+=|javascript:|<image|href=/i);
    const opened = (connector.logo.match(/<(?!\/)[a-z]+[^>]*[^/]>/g) ?? []).length;
    const closed = (connector.logo.match(/<\/[a-z]+>/g) ?? []).length;
    expect(opened).toBe(closed);
  });

  it('withSandbox moves every provider origin under the sandbox and leaves the original alone', () => {
    const before = JSON.stringify(connectorManifest(connector));
    const sandboxed = withSandbox(connector, 'http://127.0.0.1:4010/');
    expect(JSON.stringify(connectorManifest(connector))).toBe(before);
    const urls = [sandboxed.baseUrl, ...Object.values(sandboxed.baseUrls ?? {})];
    if (sandboxed.auth.type === 'oauth2') urls.push(sandboxed.auth.authorizationUrl, sandboxed.auth.tokenUrl);
    for (const url of urls) {
      if (url.startsWith('{{')) continue;
      const prefix = `http://127.0.0.1:4010/${key}`;
      expect(url === prefix || url.startsWith(`${prefix}/`), url).toBe(true);
    }
    expect(sandboxed.actions).toBe(connector.actions);
  });
});

describe('sandboxConnectors', () => {
  it('points every connector at the sandbox', () => {
    const s = sandboxConnectors('http://localhost:4010');
    expect(s.slack.baseUrl).toBe('http://localhost:4010/slack/api');
    expect((s.slack.auth as OAuth2Auth).tokenUrl).toBe('http://localhost:4010/slack/api/oauth.v2.access');
    expect((s['google-sheets'].baseUrls ?? {}).drive).toBe('http://localhost:4010/google-sheets/drive/v3');
    expect(s.salesforce.baseUrl).toBe('{{instance_url}}/services/data/v61.0');
    expect(s.http.baseUrl).toBe('{{base_url}}');
  });
});
