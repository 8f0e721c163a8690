import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { PASSWORD_MIN_LENGTH } from '../common/crypto/passwords';
import type { Tenant } from './tenant.entity';
import { OptionalNotNull } from '../common/http/validators';

/** An origin exactly as browsers send it: scheme, host and port, no path, no trailing slash. */
@ValidatorConstraint({ name: 'origin' })
export class IsOriginConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
    } catch {
      return false;
    }
  }

  defaultMessage(): string {
    return 'each value must be an origin such as https://app.example.com (scheme and host, optional port, no path or trailing slash)';
  }
}

/** `#rgb`, `#rgba`, `#rrggbb` or `#rrggbbaa`. */
export const HEX_COLOUR = /^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;
/** A CSS length up to 32px: `0`, `12px`, `0.5rem` (rem/em count as 16px). */
export const RADIUS = /^(?:0|(?:(?:[12]?\d|3[01])(?:\.\d{1,2})?|32)px|(?:[01](?:\.\d{1,3})?|2(?:\.0{1,3})?)r?em)$/;
/** A font-family list: names, quotes, commas, spaces — nothing that could end a declaration or a tag. */
export const FONT_FAMILY = /^[^;{}<>\\\u0000-\u001f]{1,200}$/;

/** How the embedded widget looks for this tenant's end users; a host may override it at init. */
export class WidgetThemeDto {
  @ApiPropertyOptional({ enum: ['light', 'dark', 'auto'], description: "auto follows the end user's system setting" })
  @OptionalNotNull()
  @IsIn(['light', 'dark', 'auto'])
  mode?: 'light' | 'dark' | 'auto';

  @ApiPropertyOptional({ example: '#4f46e5', description: 'Accent colour, a CSS hex colour' })
  @OptionalNotNull()
  @IsString()
  @Matches(HEX_COLOUR, { message: 'must be a CSS hex colour such as #4f46e5' })
  accent?: string;

  @ApiPropertyOptional({ example: '10px', description: 'Corner radius, a CSS length of at most 32px' })
  @OptionalNotNull()
  @IsString()
  @Matches(RADIUS, { message: 'must be a CSS length of at most 32px, such as 8px or 0.5rem' })
  radius?: string;

  @ApiPropertyOptional({ example: 'Inter, system-ui, sans-serif', description: 'A CSS font-family list' })
  @OptionalNotNull()
  @IsString()
  @Matches(FONT_FAMILY, { message: 'must be a font-family list such as "Inter, sans-serif" (1–200 characters, no ; { } < > or backslashes)' })
  font?: string;
}

export type WidgetTheme = Pick<WidgetThemeDto, 'mode' | 'accent' | 'radius' | 'font'>;

/** The stored theme (tenant.settings.widgetTheme), only its known keys. */
export function widgetThemeOf(t: Tenant): WidgetTheme {
  const stored = (t.settings?.widgetTheme ?? {}) as Record<string, unknown>;
  const theme: WidgetTheme = {};
  for (const key of ['mode', 'accent', 'radius', 'font'] as const) {
    if (typeof stored[key] === 'string') (theme as Record<string, string>)[key] = stored[key];
  }
  return theme;
}

export class UpdateTenantDto {
  @ApiPropertyOptional({ example: 'Acme Inc.' }) @OptionalNotNull() @IsString() @Length(1, 200) name?: string;

  @ApiPropertyOptional({ type: [String], example: ['https://app.acme.com'], description: 'Origins allowed to embed the widget' })
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(50)
  @Validate(IsOriginConstraint, { each: true })
  allowedOrigins?: string[];

  @ApiPropertyOptional({ type: WidgetThemeDto, nullable: true, description: 'Replaces the whole widget theme; null resets it to the defaults' })
  @ValidateIf((_, value) => value !== null)
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => WidgetThemeDto)
  widgetTheme?: WidgetThemeDto | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, description: "Tokens the tenant's AI agents may use per calendar month (UTC); null: no cap" })
  @ValidateIf((_, value) => value !== null)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1e15)
  monthlyTokenCap?: number | null;
}

export class SignupDto {
  @ApiProperty({ example: 'Acme Inc.' }) @IsString() @Length(1, 200) tenantName: string;
  @ApiProperty({ example: 'founder@acme.com' }) @IsEmail() @MaxLength(254) email: string;
  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH }) @IsString() @Length(PASSWORD_MIN_LENGTH, 200) password: string;
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @Length(1, 200) name?: string;
}

export class TenantView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ example: 'development', description: 'The environment these settings (and every admin call in this session) belong to' }) environment: string;
  @ApiProperty({ description: 'Flow templates reach this environment by promotion only' }) protected: boolean;
  @ApiProperty({ type: [String] }) allowedOrigins: string[];
  @ApiProperty({ type: WidgetThemeDto }) widgetTheme: WidgetTheme;
  @ApiProperty({ type: Number, nullable: true, description: "Tokens the tenant's AI agents may use per calendar month (UTC); null: no cap" }) monthlyTokenCap: number | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static of(t: Tenant): TenantView {
    return {
      id: t.id,
      name: t.name,
      slug: t.slug,
      environment: t.environment,
      protected: t.protected,
      allowedOrigins: t.allowedOrigins,
      widgetTheme: widgetThemeOf(t),
      monthlyTokenCap: t.monthlyTokenCap,
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
    };
  }
}
