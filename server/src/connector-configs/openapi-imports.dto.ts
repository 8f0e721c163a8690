import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Length, ValidateBy } from 'class-validator';

/** Exactly one of `url` and `document` (checked by the controller, which names what was sent). */
export class PutOpenApiDto {
  @ApiPropertyOptional({ description: 'Fetch the document from here (http or https; private networks refused; 10 s, 1 MiB at most)' })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  url?: string;

  @ApiPropertyOptional({
    description: 'The document itself: an object, or JSON or YAML text (1 MiB at most)',
    oneOf: [{ type: 'object' }, { type: 'string' }],
  })
  @IsOptional()
  @ValidateBy({
    name: 'objectOrString',
    validator: {
      validate: (value) => typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value)),
      defaultMessage: () => 'document must be an object or a string (JSON or YAML)',
    },
  })
  document?: string | Record<string, unknown>;
}

export class PatchOpenApiDto {
  @ApiProperty({
    description: 'By action key: how a GET listing becomes options ({ itemsPath, valuePath, labelPath, searchParam? }, dot paths) or null to offer none',
    type: 'object',
    additionalProperties: true,
  })
  @IsObject()
  optionSources: Record<string, unknown>;
}

export class ListSpecView {
  @ApiProperty({ description: "Dot path of the list in the response ('' for a top-level array)" }) itemsPath: string;
  @ApiProperty({ description: "Dot path of each option's value in an item ('' for the item itself)" }) valuePath: string;
  @ApiProperty() labelPath: string;
  @ApiPropertyOptional({ description: 'Query parameter given the search text' }) searchParam?: string;
}

export class OpenApiOperationView {
  @ApiProperty({ description: 'The action key used in flow `action` steps (and the option source key)' }) key: string;
  @ApiProperty({ enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] }) method: string;
  @ApiProperty() path: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema of the input' }) input: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema of the output' }) output: Record<string, unknown>;
  @ApiProperty({ type: ListSpecView, nullable: true, description: 'Set when the operation serves as an option source' }) optionSource: ListSpecView | null;
  @ApiProperty({ type: ListSpecView, nullable: true, description: 'What the import detected, before any choice of the admin' }) detectedOptionSource: ListSpecView | null;
  @ApiProperty({ description: 'Whether the option source was chosen by an admin rather than detected' }) optionSourceOverridden: boolean;
}

export class OpenApiImportView {
  @ApiProperty() connectorKey: string;
  @ApiProperty() title: string;
  @ApiProperty() version: string;
  @ApiProperty({ description: 'OpenAPI version of the document' }) openapi: string;
  @ApiProperty({ nullable: true, type: String, description: 'Where it was fetched from; null for an upload' }) url: string | null;
  @ApiProperty() documentBytes: number;
  @ApiProperty({ type: [String], description: "The document's servers (informational: calls go to the connection's base URL)" }) servers: string[];
  @ApiProperty({ type: [OpenApiOperationView] }) operations: OpenApiOperationView[];
  @ApiProperty({ type: [String], description: 'Operations or parts left out, and why' }) warnings: string[];
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}
