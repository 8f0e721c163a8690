import 'reflect-metadata';
import {
  Module,
  Controller,
  Get,
  Param,
  Res,
  Req,
  Injectable,
  CanActivate,
  ExecutionContext,
  NestInterceptor,
  CallHandler,
  ValidationPipe,
  UnauthorizedException,
  BadGatewayException,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, APP_PIPE, NestFactory } from '@nestjs/core';
import { Observable } from 'rxjs';
import { checkAuth, forward } from './common';

const ADAPTER = process.env.ADAPTER || 'express';
const LOG = process.env.LOGGER === '1';
const PORT = +(process.env.PORT || 4200);

@Injectable()
class AuthGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest();
    const k = checkAuth(req.headers.authorization);
    if (!k) throw new UnauthorizedException();
    req.tenant = k.tenant;
    return true;
  }
}
@Injectable()
class PassInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler): Observable<any> {
    return next.handle();
  }
}

@Controller('v1')
class ApiController {
  @Get('ping')
  ping() {
    return { ok: true };
  }

  // Express 5 (path-to-regexp v8) needs a named wildcard; fastify's find-my-way rejects '*path' ("Wildcard must be the last character")
  @Get(ADAPTER === 'fastify' ? 'proxy/:id/*' : 'proxy/:id/*path')
  async proxy(@Param('id') id: string, @Req() req: any, @Res() res: any) {
    // wildcard value differs per adapter: express5 -> string[] at params.path; fastify -> params['*'] / params.path
    const p = req.params.path ?? req.params['*'];
    const rest = Array.isArray(p) ? p.join('/') : p;
    let up;
    try {
      up = await forward('/' + rest, 'GET');
    } catch {
      throw new BadGatewayException();
    }
    res.status(up.status);
    if (up.ct) res.header('content-type', up.ct);
    res.header('content-length', String(up.body.length));
    res.send(up.body);
  }
}

async function build() {
  const imports: any[] = [];
  if (LOG) {
    const { LoggerModule } = require('nestjs-pino');
    const pino = require('pino');
    const dest = pino.destination({ dest: process.env.LOG_FILE || 'logs/app.log', sync: false, mkdir: true });
    imports.push(LoggerModule.forRoot({ pinoHttp: [{ level: 'info' }, dest] }));
  }
  @Module({
    imports,
    controllers: [ApiController],
    providers: [
      { provide: APP_GUARD, useClass: AuthGuard },
      { provide: APP_INTERCEPTOR, useClass: PassInterceptor },
      { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true }) },
    ],
  })
  class AppModule {}
  return AppModule;
}

async function main() {
  const AppModule = await build();
  const opts: any = LOG ? { bufferLogs: true } : { logger: ['error', 'warn'] };
  let app: any;
  if (ADAPTER === 'fastify') {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    app = await NestFactory.create(AppModule, new FastifyAdapter(), opts);
    await app.register(require('@fastify/cookie'));
  } else {
    app = await NestFactory.create(AppModule, opts);
    app.use(require('cookie-parser')());
    if (process.env.ETAG === '0') {
      app.set('etag', false);
      app.disable('x-powered-by');
    }
  }
  if (LOG) app.useLogger(app.get(require('nestjs-pino').Logger));
  await app.listen(PORT, '127.0.0.1');
  process.send?.('ready');
}
main();
