// Data source for the TypeORM CLI: `npm run typeorm -w migrations -- migration:show`.
import { DataSource } from 'typeorm';
import { migrations, MIGRATIONS_TABLE } from './index';

const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/switchboard');
}

export default new DataSource({
  type: 'postgres',
  url,
  migrations,
  migrationsTableName: MIGRATIONS_TABLE,
  synchronize: false,
});
