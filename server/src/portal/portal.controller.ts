import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { PortalFiles } from './portal-files';

export const PORTAL_FILES = Symbol('PORTAL_FILES');

/** The tenant admin portal (portal/dist) at /portal, with client-side routes under it. */
@ApiExcludeController()
@Controller()
export class PortalController {
  constructor(@Inject(PORTAL_FILES) private readonly files: PortalFiles) {}

  @Get(['portal', 'portal/*path'])
  @Public()
  serve(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.files.serve(req, res);
  }
}
