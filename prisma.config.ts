import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// Prisma does not read .env when this file exists, and without DATABASE_URL its CLI silently
// falls back to a native engine it cannot download here. The launcher (`npm start`, `medaxis`)
// always sets DATABASE_URL before calling Prisma; this default only serves a bare `npx prisma`.
process.env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/medaxis';

function shadowDatabase(url: string) {
  // Discrete connection fields, not a connection string: see patches/@prisma+adapter-pg (P3006).
  const parsed = new URL(url);
  return new PrismaPg({
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: parsed.pathname.slice(1),
  });
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  adapter: () => Promise.resolve(shadowDatabase(process.env.DATABASE_URL!)),
});
