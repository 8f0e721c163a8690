import { Controller, Get, HttpCode } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators';
import { AppError } from '../common/errors/app-error';
import { OUTAGE_RETRY_AFTER_SECONDS } from '../common/errors/dependency-errors';
import { QUEUES } from '../queues/queues.module';
import { InjectQueue } from '@nestjs/bull';
import type { Queue } from 'bull';
import { InjectRedis } from '../redis/redis.module';

const CHECK_TIMEOUT_MS = 2000;

async function check(probe: () => Promise<unknown>): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)))]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

class LivenessView {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

class ReadinessView {
  @ApiProperty({ enum: ['ready'] }) status: 'ready';
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'postgres, redis, queues: `ok` each' }) checks: Record<string, string>;
}

@ApiTags('operations')
@Controller()
@Public()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRedis() private readonly redis: Redis,
    @InjectQueue(QUEUES.runs) private readonly runs: Queue,
  ) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: LivenessView })
  healthz(): LivenessView {
    return { status: 'ok' };
  }

  @Get('readyz')
  @HttpCode(200)
  @ApiOperation({ summary: "Readiness: PostgreSQL, Redis and the queues' Redis connection answer; each is reported" })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down; details.checks names it' })
  @ApiOkResponse({ type: ReadinessView })
  async readyz(): Promise<ReadinessView> {
    const [postgres, redis, queues] = await Promise.all([check(() => this.db.query('SELECT 1')), check(() => this.redis.ping()), check(() => this.runs.client.ping())]);
    const checks = { postgres, redis, queues };
    if (Object.values(checks).some((c) => c !== 'ok')) {
      const down = Object.entries(checks)
        .filter(([, c]) => c !== 'ok')
        .map(([name]) => name);
      throw new AppError('service_unavailable', `Not ready: ${down.join(', ')} unreachable`, { checks }, { 'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS) });
    }
    return { status: 'ready', checks };
  }
}
