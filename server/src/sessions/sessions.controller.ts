import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth, CurrentActor, CurrentPrincipal, EndUserAuth, MemberAuth } from '../auth/auth.decorators';
import type { Actor, EndUserPrincipal } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { UuidParam } from '../common/http/params';
import { EndUserView } from '../end-users/end-users.dto';
import { EndUsersService } from '../end-users/end-users.service';
import { CreateSessionDto, MeView, RegisterSigningKeyDto, SessionView, SigningKeyListView, SigningKeyView } from './sessions.dto';
import { SessionsService } from './sessions.service';

@ApiTags('end-user sessions')
@Controller()
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly endUsers: EndUsersService,
  ) {}

  @Post('v1/sessions')
  @ApiKeyAuth()
  @ApiOperation({ summary: 'Mint a short-lived session token for one end user (created or updated by your id for it)' })
  @ApiCreatedResponse({ type: SessionView })
  async create(@CurrentActor() actor: Actor, @Body() body: CreateSessionDto): Promise<SessionView> {
    const { token, session, endUser } = await this.sessions.create(actor, { ...body, externalId: body.endUserId });
    return { token, expiresAt: session.expiresAt.toISOString(), allowedConnectors: session.allowedConnectors, endUser: EndUserView.of(endUser) };
  }

  @Get('v1/me')
  @EndUserAuth()
  @ApiOperation({ summary: 'The end user this session or JWT speaks for' })
  @ApiOkResponse({ type: MeView })
  async me(@CurrentActor() actor: Actor, @CurrentPrincipal() principal: EndUserPrincipal): Promise<MeView> {
    return {
      endUser: EndUserView.of(await this.endUsers.get(actor, principal.externalId)),
      allowedConnectors: principal.allowedConnectors,
      expiresAt: principal.expiresAt.toISOString(),
    };
  }

  @Get('v1/admin/signing-keys')
  @MemberAuth('developer')
  @ApiTags('admin: signing keys')
  @ApiOperation({ summary: 'Public keys your backend signs end-user JWTs with' })
  @ApiOkResponse({ type: SigningKeyListView })
  async listKeys(@CurrentActor() actor: Actor): Promise<SigningKeyListView> {
    return { data: (await this.sessions.listSigningKeys(actor)).map(SigningKeyView.of) };
  }

  @Post('v1/admin/signing-keys')
  @MemberAuth('developer')
  @ApiTags('admin: signing keys')
  @ApiOperation({ summary: 'Register a public key (ES256 or RS256) for end-user JWTs; its id is the JWT "kid"' })
  @ApiCreatedResponse({ type: SigningKeyView })
  async registerKey(@CurrentActor() actor: Actor, @Body() body: RegisterSigningKeyDto): Promise<SigningKeyView> {
    if (typeof body.publicKey !== 'string' && (typeof body.publicKey !== 'object' || body.publicKey === null || Array.isArray(body.publicKey))) {
      throw new AppError('validation_failed', 'publicKey: must be a PEM string or a JWK object', {
        errors: [{ path: 'publicKey', message: 'must be a PEM string or a JWK object' }],
      });
    }
    return SigningKeyView.of(await this.sessions.registerSigningKey(actor, body));
  }

  @Delete('v1/admin/signing-keys/:id')
  @HttpCode(204)
  @MemberAuth('developer')
  @ApiTags('admin: signing keys')
  @ApiOperation({ summary: 'Revoke a signing key: JWTs with its kid are refused from now on' })
  @ApiNoContentResponse()
  async revokeKey(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<void> {
    await this.sessions.revokeSigningKey(actor, id);
  }
}
