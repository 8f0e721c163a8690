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
import { CONNECT_CSP, CONNECT_CSS, CONNECT_JS, continuePage, credentialsForm, errorPage, FormField, resultPage } from './connect-pages';
import { ConnectError, ConnectService } from './connect.service';
import type { ResolvedConnector } from '../connector-configs/connector-configs.service';

type ConnectQuery = { session?: string; origin?: string; connectionId?: string } & Record<string, string | undefined>;

/** A page to show, with its status (a form shown again for a mistake is a 400). */
type Rendered = string | { status: number; html: string } | null;

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
      // Values the authorize URL is built from (a subdomain), and the end user's own OAuth app where the tenant allows one, are asked before going to the provider.
      if (auth.type === 'oauth2' && !this.connect.asksConfig(resolved.definition) && !this.connect.asksForEndUserApp(resolved)) {
        res.redirect(302, await this.connect.beginOAuth(principal, resolved, { origin, connectionId: query.connectionId }));
        return null;
      }
      // Prefilled by the host (`config.subdomain=acme`) or, on reconnect, from the connection.
      const previous = await this.connect.reconnectConfig(principal, key, query.connectionId);
      const prefilled = {
        ...Object.fromEntries(Object.entries(previous).map(([name, value]) => [`config.${name}`, value])),
        ...Object.fromEntries(Object.entries(query).filter((e): e is [string, string] => e[0].startsWith('config.') && typeof e[1] === 'string')),
      };
      return this.form(resolved, key, query, undefined, prefilled);
    });
  }

  @Post('connect/:connector')
  async submit(@Param('connector') key: string, @Body() body: Record<string, string>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const query: ConnectQuery = { session: body.session, origin: body.origin || undefined, connectionId: body.connectionId || undefined };
    await this.page(req, res, key, query, async (principal, origin) => {
      const resolved = await this.connect.prepare(principal, key, query.connectionId);
      const auth = resolved.definition.auth;
      if (auth.type === 'oauth2' && !this.connect.asksConfig(resolved.definition) && !this.connect.asksForEndUserApp(resolved)) {
        throw new ConnectError('wrong_flow', `${resolved.definition.name} connects with OAuth, not a form`);
      }
      try {
        if (auth.type === 'oauth2') {
          const config = this.connect.askedConfig(resolved.definition, body);
          const app = this.connect.asksForEndUserApp(resolved) ? { clientId: (body.clientId ?? '').trim(), clientSecret: (body.clientSecret ?? '').trim() } : undefined;
          if (app && !(app.clientId && app.clientSecret)) throw new ConnectError('missing_credentials', 'Enter both the client ID and the client secret of your OAuth app');
          // Config and app ride with the single-use state; the provider's consent page comes next.
          return continuePage(resolved.definition.name, await this.connect.beginOAuth(principal, resolved, { origin, connectionId: query.connectionId, config, app }));
        }
        const connection = await this.connect.connectWithCredentials(principal, resolved, body, query.connectionId);
        return resultPage({ status: 'connected', connector: key, connectionId: connection.id }, origin, resolved.definition.name);
      } catch (error) {
        if (!(error instanceof ConnectError)) throw error;
        // Nothing was saved: show the form again with the reason, keeping non-secret values.
        const config = Object.fromEntries(Object.entries(body).filter(([k]) => k.startsWith('config.') || k === 'clientId'));
        return { status: 400, html: this.form(resolved, key, query, error.message, config) };
      }
    });
  }

  @Get('oauth/callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    this.secure(res);
    if (await this.throttled(res, () => this.throttle.assertAllowed('oauth_state', req.ip))) return;
    try {
      const { result, targetOrigin, connectorName } = await this.connect.finishOAuth(new URL(req.originalUrl, 'http://x').searchParams);
      res
        .status(result.status === 'connected' ? 200 : 400)
        .type('html')
        .send(resultPage(result, targetOrigin, connectorName));
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
      res
        .status(429)
        .set(error.headers ?? {})
        .type('html')
        .send(errorPage('Too many attempts', error.message));
      return true;
    }
  }

  private async page(req: Request, res: Response, key: string, query: ConnectQuery, render: (p: EndUserPrincipal, origin: string | null) => Promise<Rendered>): Promise<void> {
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
      const page = await render(principal, origin);
      if (typeof page === 'string') res.status(200).type('html').send(page);
      else if (page) res.status(page.status).type('html').send(page.html);
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      const status = error.code === 'origin_not_allowed' || error.code === 'connector_not_allowed' ? 403 : 400;
      // Report to the opener only when its origin is known to be allowed.
      const origin = error.code === 'origin_not_allowed' ? null : (query.origin ?? null);
      res
        .status(status)
        .type('html')
        .send(
          resultPage(
            { status: 'error', connector: key, error: { code: error.code, message: error.message } },
            origin,
            (await this.registry.find(principal.tenantId, key).catch(() => undefined))?.name ?? key,
          ),
        );
    }
  }

  /** The popup's form: connection config, then the credentials the connector's auth needs (none for plain OAuth, the end user's app where allowed). */
  private form(resolved: ResolvedConnector, key: string, query: ConnectQuery, error?: string, values: Record<string, string> = {}): string {
    const { name, logo, auth, connectionConfig } = resolved.definition;
    const fields: FormField[] = [];
    for (const [field, spec] of Object.entries(connectionConfig ?? {})) {
      if (spec.fromToken || spec.fromAccount || spec.fromCallback) continue;
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
      fields.push(
        { name: 'clientId', label: 'Client ID', type: 'text', help: `Of an API client you created in ${name}` },
        { name: 'clientSecret', label: 'Client secret', type: 'password' },
      );
    } else if (auth.type === 'oauth2' && this.connect.asksForEndUserApp(resolved)) {
      fields.push(
        { name: 'clientId', label: 'Client ID of your OAuth app', type: 'text', value: values.clientId, help: `Register ${this.connect.redirectUri} as its redirect URI.` },
        { name: 'clientSecret', label: 'Client secret', type: 'password' },
      );
    } else if (auth.type === 'basic') {
      // A fixed username or password (an API key sent as the username) is not asked for.
      const b = auth as BasicAuth;
      if (b.username === undefined) fields.push({ name: 'username', label: b.usernameLabel ?? 'Username', type: 'text', help: b.password !== undefined ? b.help : undefined });
      if (b.password === undefined) fields.push({ name: 'password', label: b.passwordLabel ?? 'Password', type: 'password', help: b.help });
    }
    return credentialsForm({
      connectorName: name,
      logo,
      action: `/connect/${encodeURIComponent(key)}`,
      hidden: this.hidden(query),
      fields,
      error,
      continuesTo: auth.type === 'oauth2' ? name : undefined,
    });
  }

  /** What a form posts back besides its fields: the session, the opener's origin, the connection to replace. */
  private hidden(query: ConnectQuery): Record<string, string> {
    const hidden: Record<string, string> = { session: query.session ?? '' };
    if (query.origin) hidden.origin = query.origin;
    if (query.connectionId) hidden.connectionId = query.connectionId;
    return hidden;
  }
}
