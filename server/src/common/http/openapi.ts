import type { INestApplication } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, DocumentBuilder, getSchemaPath, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { SESSION_COOKIE } from '../../auth/auth.decorators';
import { ERROR_STATUS } from '../errors/app-error';

class ErrorBody {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), description: 'Stable, machine-readable' }) code: string;
  @ApiProperty({ description: 'For people: what is wrong and where' }) message: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'validation_failed: `errors: [{path, message}]`; 5xx: `errorId` (also in our logs)',
  })
  details?: Record<string, unknown>;
}

/** A property that holds any JSON value (`unknown` in generated types); without it a property typed `unknown` is documented as an object. */
export const ANY_JSON = { oneOf: [{}] };

/** The answer of an operation that passes bytes through as they are (a provider's answer, a file). */
export const ANY_CONTENT = { content: { '*/*': { schema: { type: 'string', format: 'binary' } } } };

export class ErrorEnvelope {
  @ApiProperty({ type: ErrorBody }) error: ErrorBody;
}

export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Switchboard API')
    .setDescription('Embedded integration platform. Errors always come as `{ "error": { "code", "message", "details" } }`.')
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Secret key (sk_…) for host backends' }, 'secretKey')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'End-user session (sess_…) or a JWT your backend signed' }, 'endUserSession')
    .addCookieAuth(SESSION_COOKIE, { type: 'apiKey', in: 'cookie', description: 'Portal session (set by /v1/auth/login)' })
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorEnvelope] });
  // Every operation can fail with the envelope; say so once here rather than on every handler.
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      if (operation && typeof operation === 'object' && 'responses' in operation) {
        operation.responses.default = {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorEnvelope) } } },
        };
      }
    }
  }
  return document;
}

/** Serves the document at /openapi.json and the interactive docs at /docs. */
export function setupOpenApi(app: INestApplication, version: string): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, version), {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'Switchboard API',
  });
}
