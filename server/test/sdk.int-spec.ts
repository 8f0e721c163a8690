import { Switchboard, SwitchboardError } from '@switchboard/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startApi, TestApi } from './harness';

describe('@switchboard/sdk against a real server', () => {
  let api: TestApi;
  let sdk: Switchboard;

  beforeAll(async () => {
    api = await startApi();
    const tenant = await createTenant(api, 'SDK Co');
    sdk = new Switchboard({ baseUrl: api.url, secretKey: tenant.host.options.bearer! });
  });
  afterAll(() => api.close());

  it('manages end users', async () => {
    const created = await sdk.endUsers.upsert('cust-1', { displayName: 'Customer One', metadata: { plan: 'pro' } });
    expect(created).toMatchObject({ externalId: 'cust-1', displayName: 'Customer One', metadata: { plan: 'pro' } });
    expect(await sdk.endUsers.get('cust-1')).toMatchObject({ id: created.id });
    await sdk.endUsers.upsert('cust/2');
    const all: string[] = [];
    for await (const user of sdk.endUsers.all()) all.push(user.externalId);
    expect(all).toEqual(['cust-1', 'cust/2']);
    await sdk.endUsers.delete('cust-1');
    await expect(sdk.endUsers.get('cust-1')).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('throws typed errors carrying the API code and details', async () => {
    const error = await sdk.endUsers.upsert('x', { email: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwitchboardError);
    expect(error).toMatchObject({ status: 400, code: 'validation_failed', details: { errors: [{ path: 'email' }] } });
    const bad = new Switchboard({ baseUrl: api.url, secretKey: 'sk_revoked' });
    await expect(bad.endUsers.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
  });
});
