import { ParseUUIDPipe } from '@nestjs/common';
import { AppError } from '../errors/app-error';

/** A UUID path parameter; anything else is a 400 naming the parameter. */
export const UuidParam = (name: string) =>
  new ParseUUIDPipe({
    exceptionFactory: () => new AppError('validation_failed', `${name}: must be a UUID`, { errors: [{ path: name, message: 'must be a UUID' }] }),
  });
