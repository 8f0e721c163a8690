import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsEmail, IsOptional, IsString, Length, MaxLength, Validate, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { PASSWORD_MIN_LENGTH } from '../common/crypto/passwords';
import type { Tenant } from './tenant.entity';

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

export class UpdateTenantDto {
  @ApiPropertyOptional({ example: 'Acme Inc.' }) @IsOptional() @IsString() @Length(1, 200) name?: string;

  @ApiPropertyOptional({ type: [String], example: ['https://app.acme.com'], description: 'Origins allowed to embed the widget' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Validate(IsOriginConstraint, { each: true })
  allowedOrigins?: string[];
}

export class SignupDto {
  @ApiProperty({ example: 'Acme Inc.' }) @IsString() @Length(1, 200) tenantName: string;
  @ApiProperty({ example: 'founder@acme.com' }) @IsEmail() @MaxLength(254) email: string;
  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH }) @IsString() @Length(PASSWORD_MIN_LENGTH, 200) password: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
}

export class TenantView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ type: [String] }) allowedOrigins: string[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static of(t: Tenant): TenantView {
    return {
      id: t.id,
      name: t.name,
      slug: t.slug,
      allowedOrigins: t.allowedOrigins,
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
    };
  }
}
