import { Module } from '@nestjs/common';
import { EnvironmentsService } from './environments.service';

/** The environments service alone, for modules (flows) that must not pull in the tenants module's routes. */
@Module({ providers: [EnvironmentsService], exports: [EnvironmentsService] })
export class EnvironmentsModule {}
