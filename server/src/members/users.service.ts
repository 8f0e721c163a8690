import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { hashPassword, verifyPassword } from '../common/crypto/passwords';
import { User } from './user.entity';

/** Users are global (one person, many tenants); tenant data is reached through memberships. */
@Injectable()
export class UsersService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  findByEmail(email: string, manager: EntityManager = this.db.manager): Promise<User | null> {
    return manager.getRepository(User).createQueryBuilder('u').addSelect('u.passwordHash').where('lower(u.email) = lower(:email)', { email }).getOne();
  }

  async verifyCredentials(email: string, password: string): Promise<User | null> {
    const user = await this.findByEmail(email);
    const ok = await verifyPassword(password, user?.passwordHash ?? null);
    return ok ? user : null;
  }

  /** Finds the user by email or creates one; sets the password only on a user that has none. */
  async findOrCreate(input: { email: string; name?: string | null; password?: string }, manager: EntityManager): Promise<{ user: User; created: boolean }> {
    const existing = await this.findByEmail(input.email, manager);
    if (existing) {
      if (!existing.passwordHash && input.password) {
        await this.setPassword(existing.id, input.password, manager, input.name);
      }
      return { user: existing, created: false };
    }
    // ON CONFLICT: two requests creating the same person at once end up with one user, not an error.
    const inserted: Array<{ id: string }> = await manager.query(
      `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
      [input.email.trim(), input.name ?? null, input.password ? await hashPassword(input.password) : null],
    );
    const user = await this.findByEmail(input.email, manager);
    if (!user) throw new Error(`user ${input.email} vanished while being created`);
    return { user, created: inserted.length === 1 };
  }

  /** Sets the first password (and name) of an account that has none; false when it already has one. */
  async claimNewAccount(userId: string, password: string, name: string | undefined, manager: EntityManager): Promise<boolean> {
    const [, count]: [unknown, number] = await manager.query('UPDATE users SET password_hash = $2, name = COALESCE($3, name) WHERE id = $1 AND password_hash IS NULL', [
      userId,
      await hashPassword(password),
      name ?? null,
    ]);
    return count === 1;
  }

  async setPassword(userId: string, password: string, manager: EntityManager, name?: string | null): Promise<void> {
    const patch: Partial<User> = { passwordHash: await hashPassword(password) };
    if (name) patch.name = name;
    await manager.getRepository(User).update(userId, patch);
  }
}
