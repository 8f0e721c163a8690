import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { findUnstorable, invalidInput, Problem } from './hostile-input';

function flatten(errors: ValidationError[], prefix = ''): Problem[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ path, message }));
    return own.concat(flatten(error.children ?? [], path));
  });
}

const isDto = (metatype: unknown): boolean => typeof metatype === 'function' && ![Object, Array, String, Number, Boolean].includes(metatype as never);

/**
 * Whitelisting validation: unknown fields and wrong types are rejected with the path of each
 * problem. Before that, input PostgreSQL cannot store (NUL, lone surrogates) is refused wherever it
 * is, and a DTO body must be a JSON object.
 */
@Injectable()
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const where = metadata.type === 'param' ? (metadata.data ?? '') : '';
      const problems = findUnstorable(value, where);
      if (metadata.type === 'body' && isDto(metadata.metatype) && (value === null || typeof value !== 'object' || Array.isArray(value)) && value !== undefined) {
        problems.push({ path: 'body', message: 'must be a JSON object' });
      }
      if (problems.length > 0) throw invalidInput(problems);
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => invalidInput(flatten(errors)),
  });
}
