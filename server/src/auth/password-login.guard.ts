import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { AppError } from '../common/errors/app-error';
import { createValidationPipe } from '../common/http/validation.pipe';
import { LoginDto } from './auth.dto';

const validation = createValidationPipe();

/**
 * Runs the passport-local strategy. Guards run before pipes, so the body is validated here first:
 * passport must never see a non-string email. The strategy's coded errors (401, 429) pass through.
 */
@Injectable()
export class PasswordLoginGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<{ body: unknown }>();
    req.body = await validation.transform(req.body ?? {}, { type: 'body', metatype: LoginDto });
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    if (!user) throw new AppError('invalid_credentials', 'The email or password is wrong');
    return user;
  }
}
