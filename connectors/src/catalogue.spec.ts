import { cpSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogueConnector, catalogueConnectors, catalogueEntryErrors, catalogueEntryProblems, CATALOGUE_DIR, connectors, createSimpleHttpClient, loadCatalogue } from './index';
import { catalogueEntries, writeBuiltCatalogue } from './catalogue';
import type { CatalogueEntry } from './index';
import { connectorManifest, connectorSchema } from './schema';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

describe('provider catalogue', () => {
  it('every entry is schema-valid, declares its placeholders, and does not shadow a deep connector', () => {
    const entries = loadCatalogue();
    expect(Object.keys(entries).length).toBeGreaterThan(0);
    for (const key of Object.keys(entries)) expect(Object.keys(connectors)).not.toContain(key);
  });

  it('each entry becomes a connector whose manifest the connector schema accepts (actions aside)', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile({ ...connectorSchema, properties: { ...(connectorSchema.properties as object), actions: { type: 'object', maxProperties: 0 } } });
    for (const connector of Object.values(catalogueConnectors())) {
      const manifest = connectorManifest(connector);
      expect(validate(manifest), `${connector.key}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(JSON.stringify(manifest)).not.toContain('${');
    }
  });

  it('is read from the JSON the build wrote while no YAML file changed since, else from the YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalogue-'));
    cpSync(CATALOGUE_DIR, dir, { recursive: true });
    const built = join(dir, 'catalogue.json');
    // Without a built file: the YAML.
    expect(catalogueEntries(dir, built)).toEqual(loadCatalogue(dir));
    writeBuiltCatalogue(dir, built);
    const written = JSON.parse(readFileSync(built, 'utf8'));
    expect(written.entries).toEqual(loadCatalogue(dir));
    // Current: what the build wrote is what is read (marked, to see that it is the JSON).
    const [key] = Object.keys(written.entries);
    written.entries[key].name = 'From the build';
    writeFileSync(built, JSON.stringify(written));
    expect(catalogueEntries(dir, built)[key].name).toBe('From the build');
    // A YAML file edited after the build: the YAML again, so the edit takes effect on restart.
    const [file] = written.files as string[];
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, file), later, later);
    expect(catalogueEntries(dir, built)[key].name).not.toBe('From the build');
    utimesSync(built, later, later);
    expect(catalogueEntries(dir, built)[key].name).toBe('From the build');
    // A file added since the build: the YAML.
    writeFileSync(join(dir, 'zz-new.yaml'), readFileSync(join(dir, file), 'utf8').replace(/^([a-z0-9-]+):/gm, 'zz-$1:'));
    utimesSync(join(dir, 'zz-new.yaml'), new Date(0), new Date(0));
    expect(Object.keys(catalogueEntries(dir, built)).some((k) => k.startsWith('zz-'))).toBe(true);
  });

  it('names the file, the key and the problem of a bad entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalogue-'));
    writeFileSync(
      join(dir, 'bad.yaml'),
      'acme:\n  name: Acme\n  description: x\n  categories: [crm]\n  logo: { color: "#000000" }\n  docsUrl: https://acme.example\n  auth: { type: api_key, in: header, name: X-Key }\n  baseUrl: http://${region}.acme.example\n  verify: { path: me, accountId: id }\n',
    );
    expect(() => loadCatalogue(dir)).toThrow(/bad\.yaml: acme\/baseUrl: must be an https:\/\/ URL/);
    expect(
      catalogueEntryErrors({
        name: 'A',
        description: 'x',
        categories: ['crm'],
        logo: { color: '#000000' },
        docsUrl: 'https://a.example',
        auth: { type: 'api_key', in: 'header', name: 'X' },
        baseUrl: 'https://${region}.a.example',
        verify: { path: 'me', accountId: 'id' },
      }),
    ).toEqual(['/baseUrl: uses ${region}, which connectionConfig does not declare']);
  });

  it('learns fromAccount config from the verify answer (Atlassian cloud id) and refuses a verify call that needs it', async () => {
    const entry: CatalogueEntry = {
      name: 'Sites',
      description: 'x',
      categories: ['crm'],
      logo: { color: '#000000' },
      docsUrl: 'https://a.example',
      auth: { type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' },
      connectionConfig: { cloud_id: { title: 'Site', fromAccount: true } },
      baseUrl: 'https://a.example/ex/${cloud_id}',
      baseUrls: { identity: 'https://a.example' },
      verify: { base: 'identity', path: 'sites', accountId: '0.id', accountName: '0.name', connectionConfig: { cloud_id: '0.id' } },
    };
    expect(catalogueEntryErrors(entry)).toEqual([]);
    expect(catalogueEntryErrors({ ...entry, verify: { ...entry.verify, base: undefined } })).toEqual([
      '/verify: uses ${cloud_id}, which only the verify call itself learns (call a base without it)',
    ]);
    expect(catalogueEntryErrors({ ...entry, verify: { ...entry.verify, connectionConfig: undefined } })).toEqual([
      '/connectionConfig/cloud_id: fromAccount, but verify.connectionConfig does not read it',
    ]);
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url === '/sites' && req.headers.authorization === 'Bearer k' ? [{ id: 'c-1', name: 'Acme site' }] : { error: req.url }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const connector = catalogueConnector('sites', { ...entry, baseUrl: `${origin}/ex/\${cloud_id}`, baseUrls: { identity: origin } });
      const http = createSimpleHttpClient({ connector, credentials: { type: 'api_key', apiKey: 'k' } });
      expect(await connector.account!({ http, config: {} } as never)).toEqual({ id: 'c-1', name: 'Acme site', config: { cloud_id: 'c-1' } });
    } finally {
      server.close();
    }
  });

  it("refuses a connection-config example or default that fails the field's own pattern", () => {
    const entry = {
      name: 'A',
      description: 'x',
      categories: ['crm'],
      logo: { color: '#000000' },
      docsUrl: 'https://a.example',
      auth: { type: 'api_key', in: 'header', name: 'X' },
      connectionConfig: { sid: { title: 'SID', pattern: 'AC[0-9a-f]{4}', example: 'ACXXXX', default: 'AC12ab' } },
      baseUrl: 'https://a.example/${sid}',
      verify: { path: 'me', accountId: 'id' },
    };
    expect(catalogueEntryErrors(entry)).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'catalogue-'));
    writeFileSync(join(dir, 'a.yaml'), `a:\n${JSON.stringify(entry)}`.replace('a:\n', 'a: '));
    expect(() => loadCatalogue(dir)).toThrow(/a\.yaml: a\/connectionConfig\/sid\/example: does not match the field's pattern/);
  });

  it('refuses a key defined twice in one file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalogue-'));
    writeFileSync(join(dir, 'twice.yaml'), 'a:\n  name: A\na:\n  name: B\n');
    expect(() => loadCatalogue(dir)).toThrow(/twice\.yaml: .*[Mm]ap keys must be unique/);
  });

  describe('problems of an entry given over the API', () => {
    const entry = {
      name: 'Acme',
      description: 'Acme CRM',
      categories: ['crm'],
      logo: { color: '#112233' },
      docsUrl: 'https://acme.example/docs',
      auth: { type: 'oauth2', authorizationUrl: 'https://acme.example/authorize', tokenUrl: 'https://acme.example/token', scopes: ['read'], refreshable: true },
      baseUrl: 'https://api.acme.example',
      verify: { path: 'me', accountId: 'id' },
    };

    it('accepts a valid entry', () => {
      expect(catalogueEntryProblems(entry)).toEqual([]);
    });

    it('names each bad field by JSON Pointer, only for the auth type the entry chose', () => {
      const problems = catalogueEntryProblems({ ...entry, auth: { ...entry.auth, tokenUrl: 'ftp://x', scopez: [] }, categories: ['nope'], verify: { path: 'me' } });
      expect(problems).toEqual(
        expect.arrayContaining([
          { path: '/auth/tokenUrl', message: 'must be an https:// URL (or start with a ${placeholder})' },
          { path: '/auth/scopez', message: 'is not a known field' },
          { path: '/verify/accountId', message: 'is required' },
          expect.objectContaining({ path: '/categories/0', message: expect.stringMatching(/^must be one of .*"crm"/) }),
        ]),
      );
      expect(problems.map((p) => p.message).join()).not.toMatch(/must match exactly one schema|must be equal to constant/);
    });

    it('allows http only for URLs the caller permits', () => {
      const plain = { ...entry, baseUrl: 'http://127.0.0.1:4010/api', auth: { ...entry.auth, tokenUrl: 'http://10.0.0.1/token' } };
      const allowHttp = (url: string) => url.startsWith('http://127.0.0.1:4010/');
      expect(catalogueEntryProblems(plain, { allowHttp })).toEqual([{ path: '/auth/tokenUrl', message: 'must be an https:// URL (or start with a ${placeholder})' }]);
      expect(
        catalogueEntryProblems(plain)
          .map((p) => p.path)
          .sort(),
      ).toEqual(['/auth/tokenUrl', '/baseUrl']);
      const apiKey = { ...entry, baseUrl: 'http://127.0.0.1:4010/api', auth: { type: 'api_key', in: 'header', name: 'X-Key' } };
      expect(catalogueEntryProblems(apiKey, { allowHttp })).toEqual([]);
    });
  });
});
