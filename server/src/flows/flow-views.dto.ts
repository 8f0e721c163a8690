import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { PausedReason } from './binding-health';

export class TriggerErrorView {
  @ApiProperty() code: string;
  @ApiProperty() message: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When it is tried again' }) retryAt: string | null;
}

export class TriggerHealthView {
  @ApiProperty({ enum: ['ok', 'failing', 'waiting'], description: 'waiting: not checked yet (the first poll, or the provider subscription, is to come)' }) status:
    'ok' | 'failing' | 'waiting';
  @ApiProperty({ nullable: true, type: TriggerErrorView }) error: TriggerErrorView | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'The last successful poll' }) lastCheckedAt: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When an item last started a run' }) lastItemAt: string | null;
}

export class TemplateInstanceView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: "The end user's external id" }) endUserId: string;
  @ApiProperty({ nullable: true, type: String }) endUserName: string | null;
  @ApiProperty() version: number;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ enum: ['on', 'off', 'paused'], description: 'paused: on, but a connection it uses is disconnected or needs reauth, so nothing runs' }) status:
    'on' | 'off' | 'paused';
  @ApiProperty({ nullable: true, type: TriggerHealthView, description: 'Poll triggers and provider webhooks: whether the trigger works (null for other triggers)' })
  triggerHealth: TriggerHealthView | null;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class VersionUsage {
  @ApiProperty() version: number;
  @ApiProperty({ description: 'Instances on this version that are switched on' }) enabled: number;
  @ApiProperty({ description: 'Instances on this version that are switched off' }) disabled: number;
}

export class TemplateInstancePage {
  @ApiProperty({ type: [TemplateInstanceView] }) data: TemplateInstanceView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
  @ApiProperty({ type: [VersionUsage], description: 'How many end users are on each version' }) byVersion: VersionUsage[];
}

export class SettingLabels {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Saved value → what the option source calls it (e.g. C0123 → #sales); values it did not list are left out',
  })
  labels: Record<string, string>;
  @ApiProperty({ nullable: true, type: String, description: 'Why no label could be looked up: the connection is gone or needs reauth, the provider failed' })
  error: string | null;
}

export class SettingLabelsView {
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/SettingLabels' }, description: 'By setting, for the settings with an option source' })
  data: Record<string, SettingLabels>;
}

const PAUSED_REASONS: PausedReason[] = ['connection_missing', 'connection_needs_reauth', 'connection_revoked', 'connection_error'];

export class FlowTemplateVersionView {
  @ApiProperty() version: number;
  @ApiProperty({ format: 'date-time' }) publishedAt: string;
  @ApiProperty({ type: String, nullable: true, description: 'The user id of the member who published it (null when published by other means)' }) publishedBy: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The immutable definition (see /v1/schemas/flow-definition.json)' })
  definition: Record<string, unknown>;
}

export class FlowTemplateView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'The newest published version; 0 before the first publish' }) latestVersion: number;
  @ApiProperty({ description: 'End users may upgrade their instance themselves in the widget (rollouts and the host always can)' }) allowEndUserUpgrade: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The editable definition, possibly incomplete' }) draft: Record<string, unknown>;
  @ApiProperty({ type: [FlowTemplateVersionView], description: 'Newest first; only in the answer for one template (empty elsewhere)' }) versions: FlowTemplateVersionView[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class FlowTemplateListView {
  @ApiProperty({ type: [FlowTemplateView] }) data: FlowTemplateView[];
}

export class DefinitionErrorView {
  @ApiProperty({ description: "Dotted path of the offending value ('' for the whole document)", example: 'steps.0.output' }) path: string;
  @ApiProperty() message: string;
}

export class FlowValidationView {
  @ApiProperty() valid: boolean;
  @ApiProperty({ type: [DefinitionErrorView], description: 'Empty when valid' }) errors: DefinitionErrorView[];
}

export class PublishedFlowVersionView {
  @ApiProperty() key: string;
  @ApiProperty() version: number;
  @ApiProperty({ description: 'false: the draft equalled the latest version, so nothing new was published' }) changed: boolean;
  @ApiProperty({ format: 'date-time' }) publishedAt: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) definition: Record<string, unknown>;
}

export class ConnectionProblemView {
  @ApiProperty({ description: 'The binding (`slack`, or a named one such as `slack:alerts`)' }) binding: string;
  @ApiProperty() connector: string;
  @ApiProperty({ format: 'uuid' }) connectionId: string;
  @ApiProperty({ enum: PAUSED_REASONS }) reason: PausedReason;
}

export class InstanceNoteView {
  @ApiProperty({
    enum: ['connection_rebound', 'needs_settings'],
    description: 'connection_rebound: moved to a reconnected account; needs_settings: a rollout moved it to a version that needs more, and switched it off',
  })
  code: 'connection_rebound' | 'needs_settings';
  @ApiProperty({ description: 'For the end user' }) message: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiPropertyOptional({ description: 'connection_rebound: the binding' }) binding?: string;
  @ApiPropertyOptional({ description: 'connection_rebound: the connection id it was bound to' }) from?: string;
  @ApiPropertyOptional({ description: 'connection_rebound: the connection id it is bound to now' }) to?: string;
  @ApiPropertyOptional({ description: 'needs_settings: the version it was moved to' }) version?: number;
}

export class FlowTriggerHealthView extends TriggerHealthView {
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'The next poll (null while off)' }) nextCheckAt: string | null;
}

export class FlowInstanceView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ enum: ['on', 'off', 'paused'], description: 'paused: enabled, but a connection it uses is gone or unusable, so triggers skip it until it is reconnected' })
  status: 'on' | 'off' | 'paused';
  @ApiProperty({ enum: PAUSED_REASONS, nullable: true, type: String, description: 'Why it is paused (the first problem)' }) pausedReason: PausedReason | null;
  @ApiProperty({ type: [ConnectionProblemView], description: 'Every binding whose connection is gone or unusable (shown even while off)' })
  connectionProblems: ConnectionProblemView[];
  @ApiProperty({ type: InstanceNoteView, nullable: true, description: 'What Switchboard changed on its own; cleared by the next change' }) note: InstanceNoteView | null;
  @ApiProperty({ description: 'The version the instance runs' }) version: number;
  @ApiProperty({ description: 'A newer version is published (for end users: and the template lets them upgrade themselves)' }) upgradeAvailable: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "Values for the flow's inputs" }) settings: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Binding → connection id' }) connections: Record<string, string>;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'Schedule triggers: the next fire (null while off)' }) nextRunAt: string | null;
  @ApiProperty({ nullable: true, type: String, description: "Webhook triggers: the instance's secret URL (null while off, and for viewers)" }) webhookUrl: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Webhook triggers that verify: the key the sender signs the body with (null for viewers)' })
  webhookSecret: string | null;
  @ApiProperty({ nullable: true, type: FlowTriggerHealthView, description: 'Poll triggers and provider webhooks: whether the trigger works (null for other triggers)' })
  triggerHealth: FlowTriggerHealthView | null;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class FlowView {
  @ApiProperty({ description: 'The flow template key' }) key: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ description: 'The latest published version' }) version: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "The latest version's trigger" }) trigger: Record<string, unknown>;
  @ApiProperty({ type: [String], description: 'Connectors the flow uses' }) connectors: string[];
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The inputs the end user sets, by name' }) inputs: Record<string, unknown>;
  @ApiProperty({ type: FlowInstanceView, nullable: true, description: "The end user's instance; null when they never enabled the flow" }) instance: FlowInstanceView | null;
}

export class FlowListView {
  @ApiProperty({ type: [FlowView] }) data: FlowView[];
}

export class PromotionSideView {
  @ApiProperty({ example: 'development' }) environment: string;
  @ApiProperty({ description: 'The version promoted' }) version: number;
}

export class PromotionTargetView {
  @ApiProperty({ format: 'uuid' }) environmentId: string;
  @ApiProperty({ example: 'production' }) environment: string;
  @ApiProperty({ description: 'The template’s latest version there now (0: it has none); send it back as `expectedVersion`' }) version: number;
}

export class PromotionProblemView {
  @ApiProperty({ example: 'definition.steps.0.action' }) path: string;
  @ApiProperty() message: string;
}

export class PromotionPreviewView {
  @ApiProperty() key: string;
  @ApiProperty({ type: PromotionSideView }) from: PromotionSideView;
  @ApiProperty({ type: PromotionTargetView }) to: PromotionTargetView;
  @ApiProperty({ description: 'The target’s latest version already equals this one: promoting publishes nothing' }) upToDate: boolean;
  @ApiProperty({ description: 'Unified diff of the definitions (target’s latest → this version); empty when up to date' }) diff: string;
  @ApiProperty({ type: [PromotionProblemView], description: 'Why the target would refuse the version (e.g. a connector it does not have); empty: it can be promoted' })
  problems: PromotionProblemView[];
  @ApiProperty({ type: [String], description: 'Connectors the flow uses that are not enabled in the target (instances could not connect there yet)' })
  connectorsNotEnabled: string[];
}

export class PromotionView {
  @ApiProperty({ example: 'production' }) environment: string;
  @ApiProperty() key: string;
  @ApiProperty({ description: 'The template’s version in the target environment' }) version: number;
  @ApiProperty({ description: 'false: the target already had this definition, nothing was published' }) changed: boolean;
}
