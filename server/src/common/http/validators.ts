import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsDate, IsInt, Max, MaxDate, Min, MinDate, ValidateBy, ValidateIf } from 'class-validator';

/**
 * May be absent; when present it must not be null, because the column behind it is NOT NULL.
 * (class-validator's IsOptional lets null through; keep IsOptional only for fields documented as
 * `nullable` in OpenAPI.)
 */
export function OptionalNotNull(): PropertyDecorator {
  return applyDecorators(
    ValidateIf((_, value) => value !== undefined),
    ValidateBy({
      name: 'notNull',
      validator: { validate: (value) => value !== null, defaultMessage: () => 'must not be null (leave it out instead)' },
    }),
  );
}

/** PostgreSQL `integer`. */
export const PG_INT_MAX = 2_147_483_647;

/** An integer query parameter between min and max (max defaults to what a PostgreSQL integer holds). */
export function QueryInt(min: number, max = PG_INT_MAX): PropertyDecorator {
  return applyDecorators(
    Type(() => Number),
    IsInt(),
    Min(min),
    Max(max),
  );
}

/** Timestamps PostgreSQL and JSON both represent exactly: years 1970 to 9999. */
const EARLIEST = new Date('1970-01-01T00:00:00.000Z');
const LATEST = new Date('9999-12-31T23:59:59.999Z');

/** A date-time query parameter (ISO 8601), within years 1970–9999. */
export function QueryDate(): PropertyDecorator {
  return applyDecorators(
    Type(() => Date),
    IsDate({ message: '$property must be an ISO 8601 date-time' }),
    MinDate(EARLIEST, { message: '$property must be after 1970-01-01' }),
    MaxDate(LATEST, { message: '$property must be before the year 10000' }),
  );
}
