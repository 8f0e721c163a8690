import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { getConnector } from '@switchboard/connectors';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { AppError } from '../common/errors/app-error';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import { ConnectorRegistry } from '../connector-configs/connector-registry.service';
import { EmbedFiles, sendLogo } from './embed-files';

export const EMBED_FILES = Symbol('EMBED_FILES');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The script-tag loader, the widget bundle and connector logos, for host pages on any origin. */
@ApiExcludeController()
@Controller('embed/v1')
@Public()
export class EmbedFilesController {
  constructor(
    @Inject(EMBED_FILES) private readonly files: EmbedFiles,
    private readonly registry: ConnectorRegistry,
  ) {}

  /** A shared connector's logo by key; a tenant's own provider's with `?tenant=<id>` (a generated monogram, nothing private). */
  @Get('logos/:file')
  async logo(@Param('file') file: string, @Query('tenant') tenant: unknown, @Query('v') version: unknown, @Res() res: Response): Promise<void> {
    const key = /^([a-z0-9][a-z0-9-]{0,62})\.svg$/.exec(file)?.[1];
    const own = key && !getConnector(key) && typeof tenant === 'string' && UUID.test(tenant) ? await this.registry.find(trustedTenantId(tenant), key) : undefined;
    const logo = key ? (getConnector(key) ?? own)?.logo : undefined;
    if (!logo?.startsWith('<svg')) throw new AppError('not_found', `Logo ${file} was not found`);
    sendLogo(res, logo, version);
  }

  @Get(':file')
  script(@Param('file') file: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.files.serve(req, res, file);
  }
}
