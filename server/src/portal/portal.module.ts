import { Module } from '@nestjs/common';
import { PORTAL_FILES, PortalController } from './portal.controller';
import { PortalFiles, resolvePortalDist } from './portal-files';

/** Serves the built admin portal (`@switchboard/portal`) at /portal. */
@Module({
  controllers: [PortalController],
  providers: [{ provide: PORTAL_FILES, useFactory: () => new PortalFiles(resolvePortalDist()) }],
})
export class PortalModule {}
