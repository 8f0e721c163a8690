// A catalogue of any size for measuring and testing at scale before the real one is that big:
// the real entries in connectors/catalogue/*.yaml, cloned under other keys and names, spread over
// every category. Used by bench/catalogue.mjs and server/test/catalogue-scale-browser.int-spec.ts
// through CATALOGUE_DIR; never committed into connectors/catalogue.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { parse } from 'yaml';
import { CONNECTOR_CATEGORIES } from '../connectors/dist/categories.js';

const REAL_DIR = resolve(import.meta.dirname, '..', 'connectors', 'catalogue');
/** Keys the deep connectors hold: a synthetic entry must not take one. */
const DEEP_KEYS = new Set(Object.keys(createRequire(import.meta.url)('@switchboard/connectors').connectors));

/** Names SaaS customers ask for (issue 13), so the list and its search look like the real thing. */
const NAMES = [
  'Gmail',
  'Google Drive',
  'Google Calendar',
  'Outlook',
  'Microsoft Teams',
  'SharePoint',
  'OneDrive',
  'Jira',
  'Confluence',
  'Intercom',
  'Freshdesk',
  'Front',
  'ServiceNow',
  'Asana',
  'Monday',
  'ClickUp',
  'Trello',
  'Airtable',
  'Pipedrive',
  'Attio',
  'Zoho CRM',
  'Close',
  'Gong',
  'Outreach',
  'Zoom',
  'Calendly',
  'QuickBooks',
  'Xero',
  'NetSuite',
  'Shopify',
  'DocuSign',
  'PandaDoc',
  'Box',
  'Dropbox',
  'Mailchimp',
  'Klaviyo',
  'Marketo',
  'BambooHR',
  'Gusto',
  'Lever',
  'Greenhouse',
  'Ashby',
  'Twilio',
  'Discord',
];

/** The real catalogue's entries, by key. */
export function realEntries() {
  const entries = {};
  for (const file of readdirSync(REAL_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort())
    Object.assign(entries, parse(readFileSync(join(REAL_DIR, file), 'utf8')));
  return entries;
}

/**
 * `count` entries: the real ones as they are, then clones named after NAMES (numbered once the
 * names run out), each in one or two categories taken in turn. Returns them by key.
 */
export function syntheticEntries(count) {
  const real = realEntries();
  const out = { ...real };
  const templates = Object.values(real);
  for (let i = 0; Object.keys(out).length < count; i++) {
    const round = Math.floor(i / NAMES.length);
    const name = `${NAMES[i % NAMES.length]}${round ? ` ${round + 1}` : ''}`;
    const key = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    if (DEEP_KEYS.has(key) || key in out) continue;
    const categories = [CONNECTOR_CATEGORIES[i % CONNECTOR_CATEGORIES.length]];
    if (i % 3 === 0) categories.push(CONNECTOR_CATEGORIES[(i + 7) % CONNECTOR_CATEGORIES.length]);
    const colour = `#${((i * 2654435761) >>> 8).toString(16).padStart(6, '0').slice(-6)}`;
    out[key] = {
      ...structuredClone(templates[i % templates.length]),
      name,
      description: `${name}: records, people and activity (a synthetic entry for scale tests).`,
      categories,
      logo: {
        color: colour,
        text: name
          .replace(/[^A-Za-z0-9 ]/g, '')
          .split(' ')
          .map((w) => w[0])
          .join('')
          .slice(0, 3),
      },
    };
  }
  return out;
}

/** Writes `count` entries into a fresh temporary folder (JSON is YAML) and returns its path, for CATALOGUE_DIR. */
export function writeSyntheticCatalogue(count) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-catalogue-'));
  writeFileSync(join(dir, 'synthetic.yaml'), JSON.stringify(syntheticEntries(count), null, 1));
  return dir;
}
