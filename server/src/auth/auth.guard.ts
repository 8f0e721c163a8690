import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { AppError } from '../common/errors/app-error';
import { WidgetOrigins } from '../embed/widget-cors';
import { logTenant } from '../logging/request-log';
import { ROLE_RANK } from '../members/membership.entity';
import { AUTH_METADATA, AuthRequirement } from './auth.decorators';
import type { AuthenticatedRequest, Principal } from './principal';
import { ApiKeyStrategy, MemberSessionStrategy } from './strategies';
import { EndUserStrategy } from '../sessions/end-user.strategy';

/**
 * The one global guard. Each route declares its requirement with @Public, @SessionAuth,
 * @MemberAuth(role), @ApiKeyAuth or @EndUserAuth; a route that declares nothing is refused, so forgetting
 * authentication fails closed.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyStrategy,
    private readonly memberSessions: MemberSessionStrategy,
    private readonly endUsers: EndUserStrategy,
    private readonly widgetOrigins: WidgetOrigins,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_METADATA, [context.getHandler(), context.getClass()]);
    if (!requirement) throw new AppError('internal_error', 'Route declares no authentication requirement');
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    if (requirement.kind === 'public') {
      await this.widgetOrigins.check(res, undefined);
      return true;
    }

    const kind = requirement.kind === 'api_key_or_end_user' ? (/^Bearer\s+sk_/i.test(req.headers.authorization ?? '') ? 'api_key' : 'end_user') : requirement.kind;
    const principal: Principal = await (kind === 'api_key' ? this.apiKeys : kind === 'end_user' ? this.endUsers : this.memberSessions).validate(req);
    req.user = principal;

    if (requirement.kind === 'member') {
      if (principal.kind !== 'member') {
        throw new AppError('forbidden', 'Choose a tenant first: you are not an active member of any tenant in this session');
      }
      if (ROLE_RANK[principal.role] < ROLE_RANK[requirement.minRole]) {
        throw new AppError('insufficient_role', `This needs the ${requirement.minRole} role; you are ${principal.role}`, {
          requiredRole: requirement.minRole,
          role: principal.role,
        });
      }
    }
    if (principal.kind !== 'session') {
      req.tenantId = principal.tenantId;
      logTenant(req, principal.tenantId);
    }
    await this.widgetOrigins.check(res, principal);
    return true;
  }
}
