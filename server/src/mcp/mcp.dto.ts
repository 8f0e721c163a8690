import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { OptionalNotNull } from '../common/http/validators';

export class ConnectorExposureBody {
  @ApiProperty({ type: [String], example: ['send_message', 'list_users'], description: "The connector's actions offered as MCP tools (an empty list exposes none)" })
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  exposed: string[];

  @ApiProperty({ type: [String], example: ['send_message'], description: 'Of the exposed actions, those the end user must approve before each call runs' })
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  requireApproval: string[];
}

export class McpApprovalBody {
  @ApiProperty({
    enum: ['pending', 'wait'],
    description: "pending: a gated call answers at once with the approval's id; wait: it waits up to approvalWaitSeconds for the decision, then answers the result (or pending)",
  })
  @IsIn(['pending', 'wait'])
  approvalMode: 'pending' | 'wait';

  @ApiPropertyOptional({ minimum: 1, maximum: 300, default: 50, description: 'Most MCP clients give up on a request after 60 s: keep it below that unless yours waits longer' })
  @OptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(300)
  approvalWaitSeconds?: number;
}

export class McpActionView {
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ description: 'The action only reads (readOnlyHint)' }) readOnly: boolean;
  @ApiProperty({ description: 'Its MCP tool name' }) tool: string;
  @ApiProperty() exposed: boolean;
  @ApiProperty() requireApproval: boolean;
}

export class McpConnectorView {
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Switched on for end users; a connector that is off offers no tools' }) enabled: boolean;
  @ApiProperty({ type: [McpActionView] }) actions: McpActionView[];
}

export class McpOverviewView {
  @ApiProperty({ description: 'Where MCP clients connect: <PUBLIC_URL>/mcp' }) url: string;
  @ApiProperty({ enum: ['pending', 'wait'] }) approvalMode: 'pending' | 'wait';
  @ApiProperty() approvalWaitSeconds: number;
  @ApiProperty({ type: [McpConnectorView], description: 'Connectors switched on or with exposed actions. Nothing is exposed until set here.' }) connectors: McpConnectorView[];
}
