import { Body, Controller, Get, Header, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ApiKeyAuth, BasicAuth } from '@switchboard/connectors';
import { ConnectorRegistry } from '../connector-configs/connector-registry.service';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.decorators';
import type { EndUserPrincipal } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { END_USER_TOKEN_FAILURES, SessionsService } from '../sessions/sessions.service';
import { FailedAttemptThrottle } from '../auth/failed-attempt-throttle';
import { CONNECT_CSP, CONNECT_CSS, CONNECT_JS, credentialsForm, errorPage, FormField, resultPage } from './connect-pages';
import { ConnectError, ConnectService } from './connect.service';

type ConnectQuery = { session?: string; origin?: string; connectionId?: string };

/**
 * The connect popup, on the Switchboard origin: `/connect/:connector?session=…&origin=…`. The
 * session token authenticates; the result goes back to `origin` (one of the tenant's allowed
 * origins) by postMessage. No referrer leaves these pages, so the token in the URL stays here.
 */
@ApiExcludeController()
@Controller()
@Public()
export class ConnectController {
  constructor(
    private readonly connect: ConnectService,
    private readonly sessions: SessionsService,
    private readonly throttle: FailedAttemptThrottle,
    private readonly registry: ConnectorRegistry,
  ) {}

  @Get('connect/assets/connect.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  script(): string {
    return CONNECT_JS;
  }

  @Get('connect/assets/connect.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  styles(): string {
    return CONNECT_CSS;
  }

  @Get('connect/:connector')
  async start(@Param('connector') key: string, @Query() query: ConnectQuery, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.page(req, res, key, query, async (principal, origin) => {
      const resolved = await this.connect.prepare(principal, key, query.connectionId);
      const auth = resolved.definition.auth;
      if (this.connect.asksForEndUserApp(resolved)) return this.appForm(resolved.definition.name, resolved.definition.logo, key, query);
      if (auth.type === 'oauth2') {
        res.redirect(302, await this.connect.beginOAuth(principal, resolved, { origin, connectionId: query.connectionId }));
        return null;
      }
      return this.form(resolved.definition.name, resolved.definition.logo, key, auth, query, resolved.definition.connectionConfig);
    });
  }

  @Post('connect/:connector')
  async submit(@Param('connector') key: string, @Body() body: Record<string, string>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const query: ConnectQuery = { session: body.session, origin: body.origin || undefined, connectionId: body.connectionId || undefined };
    await this.page(req, res, key, query, async (principal, origin) => {
      const resolved = await this.connect.prepare(principal, key, query.connectionId);
      const auth = resolved.definition.auth;
      if (this.connect.asksForEndUserApp(resolved)) {
        const app = { clientId: (body.clientId ?? '').trim(), clientSecret: (body.clientSecret ?? '').trim() };
        if (!app.clientId || !app.clientSecret) return this.appForm(resolved.definition.name, resolved.definition.logo, key, query, 'Enter both the client ID and the client secret of your OAuth app', app.clientId);
        // The app rides with the single-use state; the provider's consent page comes next.
        res.redirect(303, await this.connect.beginOAuth(principal, resolved, { origin, connectionId: query.connectionId, app }));
        return null;
      }
      if (auth.type !== 'api_key' && auth.type !== 'basic' && auth.type !== 'oauth2_client_credentials') throw new ConnectError('wrong_flow', `${resolved.definition.name} connects with OAuth, not a form`);
      try {
        const connection = await this.connect.connectWithCredentials(principal, resolved, body, query.connectionId);
        return resultPage({ status: 'connected', connector: key, connectionId: connection.id }, origin, resolved.definition.name);
      } catch (error) {
        if (!(error instanceof ConnectError)) throw error;
        // Nothing was saved: show the form again with the reason, keeping non-secret values.
        const config = Object.fromEntries(Object.entries(body).filter(([k]) => k.startsWith('config.')));
        return this.form(resolved.definition.name, resolved.definition.logo, key, auth, query, resolved.definition.connectionConfig, error.message, config);
      }
    });
  }

  @Get('oauth/callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    this.secure(res);
    if (await this.throttled(res, () => this.throttle.assertAllowed('oauth_state', req.ip))) return;
    try {
      const { result, targetOrigin, connectorName } = await this.connect.finishOAuth(new URL(req.originalUrl, 'http://x').searchParams);
      res.status(result.status === 'connected' ? 200 : 400).type('html').send(resultPage(result, targetOrigin, connectorName));
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      // An unknown state is a guess (or a replay): it counts towards this IP's limit.
      if (error.code === 'invalid_state') await this.throttle.recordFailure('oauth_state', req.ip);
      res.status(400).type('html').send(errorPage('Could not connect', error.message));
    }
  }

  private secure(res: Response): void {
    res.setHeader('Content-Security-Policy', CONNECT_CSP);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
  }

  /** Authenticates the session, checks the origin, renders what `render` returns (or lets it redirect). */
  /** Answers 429 as a page when `check` refuses this IP for too many wrong credentials; true when it did. */
  private async throttled(res: Response, check: () => Promise<unknown>): Promise<boolean> {
    try {
      await check();
      return false;
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'too_many_failed_attempts')) throw error;
      res.status(429).set(error.headers ?? {}).type('html').send(errorPage('Too many attempts', error.message));
      return true;
    }
  }

  private async page(req: Request, res: Response, key: string, query: ConnectQuery, render: (p: EndUserPrincipal, origin: string | null) => Promise<string | null>): Promise<void> {
    this.secure(res);
    let principal: EndUserPrincipal | null = null;
    const session = query.session;
    if (session && (await this.throttled(res, () => this.throttle.assertAllowed('end_user_token', req.ip)))) return;
    try {
      principal = session ? await this.throttle.guard('end_user_token', req.ip, () => this.sessions.authenticate(session), END_USER_TOKEN_FAILURES) : null;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
    }
    if (!principal) {
      res.status(401).type('html').send(errorPage('Session expired', 'This connect window has expired. Close it and try again from the app.'));
      return;
    }
    try {
      const origin = await this.connect.checkOrigin(principal.tenantId, query.origin);
      const html = await render(principal, origin);
      if (html !== null) res.status(200).type('html').send(html);
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      const status = error.code === 'origin_not_allowed' || error.code === 'connector_not_allowed' ? 403 : 400;
      // Report to the opener only when its origin is known to be allowed.
      const origin = error.code === 'origin_not_allowed' ? null : query.origin ?? null;
      res.status(status).type('html').send(resultPage({ status: 'error', connector: key, error: { code: error.code, message: error.message } }, origin, (await this.registry.find(principal.tenantId, key).catch(() => undefined))?.name ?? key));
    }
  }

  /** The end user's own OAuth app, asked before the provider's consent page when the tenant allows it. */
  private appForm(name: string, logo: string, key: string, query: ConnectQuery, error?: string, clientId?: string): string {
    return credentialsForm({
      connectorName: name,
      logo,
      action: `/connect/${encodeURIComponent(key)}`,
      hidden: this.hidden(query),
      fields: [
        { name: 'clientId', label: 'Client ID of your OAuth app', type: 'text', value: clientId, help: `Register ${this.connect.redirectUri} as its redirect URI.` },
        { name: 'clientSecret', label: 'Client secret', type: 'password' },
      ],
      error,
    });
  }

  private form(
    name: string,
    logo: string,
    key: string,
    auth: ApiKeyAuth | BasicAuth | { type: string },
    query: ConnectQuery,
    connectionConfig: Record<string, { title: string; description?: string; pattern?: string; fromToken?: boolean; optional?: boolean; default?: string }> | undefined,
    error?: string,
    values: Record<string, string> = {},
  ): string {
    const fields: FormField[] = [];
    for (const [field, spec] of Object.entries(connectionConfig ?? {})) {
      if (spec.fromToken) continue;
      fields.push({
        name: `config.${field}`,
        label: spec.title,
        type: 'text',
        help: spec.description,
        pattern: spec.pattern,
        value: values[`config.${field}`] ?? spec.default,
        optional: spec.optional || spec.default !== undefined,
      });
    }
    if (auth.type === 'api_key') {
      const a = auth as ApiKeyAuth;
      fields.push({ name: 'apiKey', label: a.label ?? 'API key', type: 'password', help: a.help });
    } else if (auth.type === 'oauth2_client_credentials') {
      fields.push({ name: 'clientId', label: 'Client ID', type: 'text' }, { name: 'clientSecret', label: 'Client secret', type: 'password' });
    } else {
      const b = auth as BasicAuth;
      fields.push({ name: 'username', label: b.usernameLabel ?? 'Username', type: 'text' }, { name: 'password', label: b.passwordLabel ?? 'Password', type: 'password' });
    }
    return credentialsForm({ connectorName: name, logo, action: `/connect/${encodeURIComponent(key)}`, hidden: this.hidden(query), fields, error });
  }

  /** What a form posts back besides its fields: the session, the opener's origin, the connection to replace. */
  private hidden(query: ConnectQuery): Record<string, string> {
    const hidden: Record<string, string> = { session: query.session ?? '' };
    if (query.origin) hidden.origin = query.origin;
    if (query.connectionId) hidden.connectionId = query.connectionId;
    return hidden;
  }
}
