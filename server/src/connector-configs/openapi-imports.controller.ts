import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { OpenApiImport } from './openapi-import.entity';
import { OpenApiImportView, PatchOpenApiDto, PutOpenApiDto } from './openapi-imports.dto';
import { OpenApiImportsService } from './openapi-imports.service';

@ApiTags('admin: connectors')
@Controller('v1/admin/connectors/:key/openapi')
export class OpenApiImportsController {
  constructor(private readonly imports: OpenApiImportsService) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'The OpenAPI document attached to a connector: its operations and the actions they became' })
  @ApiOkResponse({ type: OpenApiImportView })
  async get(@CurrentActor() actor: Actor, @Param('key') key: string): Promise<OpenApiImportView> {
    return view(await this.imports.get(actor.tenantId, key));
  }

  @Put()
  @MemberAuth('admin')
  @ApiOperation({
    summary: 'Attach an OpenAPI 3.x document to a connector (by URL or as the document), replacing any earlier one',
    description: 'Each operation becomes an action usable in flow `action` steps; GET operations that list things also become option sources.',
  })
  @ApiOkResponse({ type: OpenApiImportView })
  async put(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: PutOpenApiDto): Promise<OpenApiImportView> {
    const given = (['url', 'document'] as const).filter((f) => body[f] !== undefined);
    if (given.length !== 1) {
      const message = given.length === 0 ? 'Send either url or document' : 'Send url or document, not both';
      throw new AppError('validation_failed', message, { errors: [{ path: given.length === 0 ? '' : 'document', message }] });
    }
    const source = body.url !== undefined ? { url: body.url } : { document: body.document! };
    return view(await this.imports.put(actor, key, source));
  }

  @Patch()
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Choose which listing operations serve as option sources, and which fields give the value and label' })
  @ApiOkResponse({ type: OpenApiImportView })
  async patch(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: PatchOpenApiDto): Promise<OpenApiImportView> {
    return view(await this.imports.setOptionSources(actor, key, body.optionSources));
  }

  @Delete()
  @HttpCode(204)
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Remove the OpenAPI document and the actions it added' })
  @ApiNoContentResponse()
  async remove(@CurrentActor() actor: Actor, @Param('key') key: string): Promise<void> {
    await this.imports.remove(actor, key);
  }
}

function view(i: OpenApiImport): OpenApiImportView {
  return {
    connectorKey: i.connectorKey,
    title: i.title,
    version: i.version,
    openapi: i.openapiVersion,
    url: i.sourceUrl,
    documentBytes: i.documentBytes,
    servers: i.servers,
    operations: i.operations.map((o) => {
      const overridden = Object.hasOwn(i.optionSources, o.key);
      return {
        key: o.key,
        method: o.method,
        path: o.path,
        name: o.name,
        description: o.description,
        input: o.input,
        output: o.output,
        optionSource: (overridden ? i.optionSources[o.key] : o.list) ?? null,
        detectedOptionSource: o.list ?? null,
        optionSourceOverridden: overridden,
      };
    }),
    warnings: i.warnings,
    updatedAt: i.updatedAt.toISOString(),
  };
}
