import { Controller, Delete, Get, Header, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Request, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { Public } from '../auth/auth.decorators';
import { AppError } from '../common/errors/app-error';
import { logTenant } from '../logging/request-log';
import { McpIdentityService } from './mcp-identity.service';
import { McpIdentity, McpToolsService, UnknownTool } from './mcp-tools.service';

/**
 * The MCP SDK, loaded on the first MCP request: an API process that never serves one does not carry
 * it. `require`, not `import()`, which would load the SDK's ESM build beside the CommonJS types.
 */
let loaded: McpSdk | undefined;
const mcpSdk = (): McpSdk =>
  (loaded ??= {
    ...(require('@modelcontextprotocol/sdk/server/index.js') as typeof import('@modelcontextprotocol/sdk/server/index.js')),
    ...(require('@modelcontextprotocol/sdk/server/streamableHttp.js') as typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js')),
    ...(require('@modelcontextprotocol/sdk/types.js') as typeof import('@modelcontextprotocol/sdk/types.js')),
  });
type McpSdk = typeof import('@modelcontextprotocol/sdk/server/index.js') &
  typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js') &
  typeof import('@modelcontextprotocol/sdk/types.js');

const MAX_BATCH = 10;
const INSTRUCTIONS =
  "Tools act in the user's own connected accounts (Slack, HubSpot, GitHub…), as the app that runs this server allows. " +
  "Some tools wait for the user's approval: such a call may answer pending with a runId; call switchboard_call_result with it later. " +
  'A tool whose account is not connected answers a link for the user to connect it.';

/**
 * `POST /mcp`: the Model Context Protocol over Streamable HTTP, stateless (a server and a transport
 * per request, JSON answers), so any API process answers any request. The caller's identity is
 * settled before the SDK sees the request; Nest has already parsed the JSON body.
 */
class ProtectedResourceMetadata {
  @ApiProperty({ description: 'The MCP endpoint, e.g. https://switchboard.example.com/mcp' }) resource: string;
  @ApiProperty() resource_name: string;
  @ApiProperty({ type: [String], example: ['header'] }) bearer_methods_supported: string[];
}

@ApiTags('mcp')
@Controller()
@Public()
export class McpController {
  constructor(
    private readonly identities: McpIdentityService,
    private readonly tools: McpToolsService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('McpController');
  }

  // Not in the OpenAPI document: a JSON-RPC endpoint whose protocol errors are JSON-RPC error objects,
  // not our envelope (docs/agents.md describes it; the fuzz test probes it beside the popup's routes).
  @Post('mcp')
  @ApiExcludeEndpoint()
  async post(@Req() req: Request, @Res() res: Response): Promise<void> {
    const identity = await this.identities.identify(req);
    // JSON-RPC batches left MCP in 2025-06-18; older revisions may send small ones, never empty or large.
    if (Array.isArray(req.body) && (req.body.length === 0 || req.body.length > MAX_BATCH)) {
      res.status(400).json({ jsonrpc: '2.0', error: { code: -32600, message: `Invalid Request: a batch must hold 1 to ${MAX_BATCH} messages` }, id: null });
      return;
    }
    (req as Request & { tenantId?: string }).tenantId = identity.tenantId;
    logTenant(req, identity.tenantId);
    const sdk = mcpSdk();
    const server = this.server(sdk, identity);
    const transport = new sdk.StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  }

  /** Stateless: no stream to resume and no session to end (the SDK's stateless example answers the same). */
  @Get('mcp')
  @ApiExcludeEndpoint()
  get(@Res() res: Response): void {
    this.methodNotAllowed(res);
  }

  @Delete('mcp')
  @ApiExcludeEndpoint()
  remove(@Res() res: Response): void {
    this.methodNotAllowed(res);
  }

  /** RFC 9728 protected resource metadata for /mcp (the path form MCP clients ask first, and the root form). */
  @Get('.well-known/oauth-protected-resource/mcp')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'OAuth protected resource metadata (RFC 9728) of the MCP server' })
  @ApiOkResponse({ type: ProtectedResourceMetadata })
  metadata(): ProtectedResourceMetadata {
    return this.identities.metadata();
  }

  @Get('.well-known/oauth-protected-resource')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiExcludeEndpoint()
  rootMetadata(): Record<string, unknown> {
    return this.identities.metadata();
  }

  private methodNotAllowed(res: Response): void {
    res.status(405).setHeader('Allow', 'POST');
    res.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP server is stateless; send JSON-RPC requests with POST' }, id: null });
  }

  private server(sdk: McpSdk, identity: McpIdentity): Server {
    const { CallToolRequestSchema, ListToolsRequestSchema } = sdk;
    const server = new sdk.Server(
      { name: 'switchboard', title: 'Switchboard', version: process.env.npm_package_version ?? '0.1.0' },
      { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
    );
    server.setRequestHandler(ListToolsRequestSchema, () => this.guarded(sdk, async () => ({ tools: await this.tools.list(identity) })));
    server.setRequestHandler(CallToolRequestSchema, (request) =>
      this.guarded(sdk, () => this.tools.call(identity, request.params.name, (request.params.arguments ?? {}) as Record<string, unknown>)),
    );
    return server;
  }

  /** Our errors as JSON-RPC errors in words; anything unexpected is logged, never shown. */
  private async guarded<T>({ McpError, ErrorCode }: McpSdk, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof UnknownTool) throw new McpError(ErrorCode.InvalidParams, error.message);
      if (error instanceof AppError && error.status < 500) throw new McpError(ErrorCode.InvalidRequest, error.message, { code: error.code });
      if (error instanceof AppError) throw new McpError(ErrorCode.InternalError, error.message, { code: error.code });
      this.logger.error({ err: error }, 'MCP request failed');
      throw new McpError(ErrorCode.InternalError, 'Something went wrong on our side');
    }
  }
}
