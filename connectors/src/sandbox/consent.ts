/**
 * Clicks through a sandbox consent page without a browser: GET the authorize URL, POST the
 * consent form with "Allow" (or "Deny"), return where the sandbox redirects (the client's
 * redirect_uri with ?code=…&state=… or ?error=access_denied…). For tests that do not need Chromium.
 */
export async function consentInSandbox(authorizeUrl: string | URL, options: { decision?: 'allow' | 'deny'; account?: number } = {}): Promise<URL> {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) {
    if (page.status === 302 && page.headers.get('location')) return new URL(page.headers.get('location')!);
    throw new Error(
      `Sandbox authorize page answered ${page.status}: ${html
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 200)}`,
    );
  }
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
  const consentId = /name="consent_id" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !consentId) throw new Error('Not a sandbox consent page');
  const form = new URLSearchParams({ consent_id: consentId, decision: options.decision ?? 'allow', account: String(options.account ?? 0) });
  const answer = await fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  const location = answer.headers.get('location');
  if (answer.status !== 302 || !location) throw new Error(`Sandbox consent answered ${answer.status}: ${(await answer.text()).slice(0, 200)}`);
  return new URL(location);
}
