import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiKeyAuth, CurrentActor } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { EndUserPage, EndUserView, ListQueryDto, UpsertEndUserDto } from './end-users.dto';
import { EndUsersService } from './end-users.service';

export function externalIdParam(value: string): string {
  if (value.length < 1 || value.length > 255) {
    throw new AppError('validation_failed', 'externalId: must be 1-255 characters', {
      errors: [{ path: 'externalId', message: 'must be 1-255 characters' }],
    });
  }
  return value;
}

/** End users as the host backend manages them, addressed by the host's own id. */
@ApiTags('end users')
@Controller('v1/end-users')
@ApiKeyAuth()
export class EndUsersController {
  constructor(private readonly endUsers: EndUsersService) {}

  @Get()
  @ApiOperation({ summary: 'List end users, by external id' })
  @ApiOkResponse({ type: EndUserPage })
  async list(@CurrentActor() actor: Actor, @Query() query: ListQueryDto): Promise<EndUserPage> {
    const page = await this.endUsers.list(actor, query.limit, query.cursor);
    return { data: page.data.map(EndUserView.of), nextCursor: page.nextCursor };
  }

  @Get(':externalId')
  @ApiOperation({ summary: 'Get an end user by your id for it' })
  @ApiOkResponse({ type: EndUserView })
  @ApiNotFoundResponse()
  async get(@CurrentActor() actor: Actor, @Param('externalId') externalId: string): Promise<EndUserView> {
    return EndUserView.of(await this.endUsers.get(actor, externalIdParam(externalId)));
  }

  @Put(':externalId')
  @ApiOperation({ summary: 'Create or update an end user (201 when created, 200 when updated)' })
  @ApiOkResponse({ type: EndUserView, description: 'Updated' })
  @ApiCreatedResponse({ type: EndUserView, description: 'Created' })
  async upsert(
    @CurrentActor() actor: Actor,
    @Param('externalId') externalId: string,
    @Body() body: UpsertEndUserDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<EndUserView> {
    const { endUser, created } = await this.endUsers.upsert(actor, externalIdParam(externalId), body);
    res.status(created ? 201 : 200);
    return EndUserView.of(endUser);
  }

  @Delete(':externalId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an end user and everything of theirs' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async remove(@CurrentActor() actor: Actor, @Param('externalId') externalId: string): Promise<void> {
    await this.endUsers.remove(actor, externalIdParam(externalId));
  }
}
