import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError } from '../errors/app-error';

type Problem = { path: string; message: string };

function flatten(errors: ValidationError[], prefix = ''): Problem[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ path, message }));
    return own.concat(flatten(error.children ?? [], path));
  });
}

/** PostgreSQL text cannot hold NUL, so a NUL anywhere in the input is refused up front with its path. */
function findNul(value: unknown, path: string, found: Problem[]): Problem[] {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) found.push({ path: path || 'body', message: 'must not contain NUL (\\u0000) characters' });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => findNul(item, `${path}.${i}`.replace(/^\./, ''), found));
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) found.push({ path: path || 'body', message: 'keys must not contain NUL (\\u0000) characters' });
      findNul(item, path ? `${path}.${key}` : key, found);
    }
  }
  return found;
}

function invalid(problems: Problem[]): AppError {
  return new AppError('validation_failed', problems.map((p) => `${p.path}: ${p.message}`).join('; ') || 'The request is invalid', {
    errors: problems,
  });
}

/** Whitelisting validation: unknown fields and wrong types are rejected with the path of each problem. */
@Injectable()
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const problems = findNul(value, metadata.type === 'param' ? (metadata.data ?? '') : '', []);
      if (problems.length > 0) throw invalid(problems);
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
    exceptionFactory: (errors) => invalid(flatten(errors)),
  });
}
