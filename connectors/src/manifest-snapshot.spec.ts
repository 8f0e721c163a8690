import { expect, it } from 'vitest';
import { connectorManifest, connectors, ConnectorDefinition } from './index';

// The JSON the server, widget and portal read of every deep connector, byte for byte.
it('deep connector manifests are unchanged', async () => {
  const json = JSON.stringify(Object.values(connectors as Record<string, ConnectorDefinition>).map(connectorManifest), null, 1);
  await expect(json).toMatchFileSnapshot('__snapshots__/manifests.json');
});
