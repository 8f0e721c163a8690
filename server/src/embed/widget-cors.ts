import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Principal } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { TenantsService } from '../tenants/tenants.service';

/** The API the widget calls from host pages: the end user's own resources. */
const WIDGET_API = /^\/v1\/me(?:\/|$)/;

/**
 * CORS for /v1/me/* in two halves. A preflight carries no token, so it cannot tell the tenant:
 * it is answered for any origin (methods and headers only, never data). The request that follows
 * carries the token: WidgetOrigins checks its origin against the tenant's allowed
 * origins before the handler runs, so a page on another origin can neither read nor change anything.
 * Allow-Origin is set here, early, so that a 401 (expired session) and the 403 refusal are
 * readable by the widget: it can tell the host developer "add this origin" instead of showing a
 * network error. The refusal carries nothing but its code, a message and the page's own origin.
 */
export function widgetCors(ownOrigin: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (!origin || origin === ownOrigin || !WIDGET_API.test(req.path)) return next();
    res.vary('Origin');
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    res.locals.widgetOrigin = origin;
    next();
  };
}

/**
 * Refuses a cross-origin /v1/me request whose origin is not one of its tenant's allowed origins (a
 * readable 403 with no data; nothing done). Called by the global AuthGuard once the caller is known,
 * so every route is covered without an interceptor on every request.
 */
@Injectable()
export class WidgetOrigins {
  constructor(private readonly tenants: TenantsService) {}

  async check(res: Response, principal: Principal | undefined): Promise<void> {
    const origin = res.locals?.widgetOrigin as string | undefined;
    if (!origin) return;
    const tenantId = principal && principal.kind !== 'session' ? principal.tenantId : null;
    if (!tenantId || !(await this.tenants.get(tenantId)).allowedOrigins.includes(origin)) {
      throw new AppError('origin_not_allowed', originNotAllowedMessage(origin), { origin });
    }
  }
}

/** Written for the host's developer, who sees it in the widget and the browser console. */
export const originNotAllowedMessage = (origin: string) =>
  `${origin} is not one of this app's allowed origins, so Switchboard refused the request. Its admin can add it in the Switchboard portal under Settings → Allowed origins.`;
