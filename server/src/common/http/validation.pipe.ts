import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError } from '../errors/app-error';

function flatten(errors: ValidationError[], prefix = ''): Array<{ path: string; message: string }> {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ path, message }));
    return own.concat(flatten(error.children ?? [], path));
  });
}

/** Whitelisting validation: unknown fields and wrong types are rejected with the path of each problem. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const problems = flatten(errors);
      return new AppError(
        'validation_failed',
        problems.map((p) => `${p.path}: ${p.message}`).join('; ') || 'The request is invalid',
        { errors: problems },
      );
    },
  });
}
