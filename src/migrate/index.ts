export { migrate } from './source.js';
export type { MigrateOptions, MigrationResult } from './source.js';
export { listenForMigration } from './target.js';
export type { ListenOptions, MigratedIn, MigrationListener } from './target.js';
export type { MigrationAddress } from './channel.js';
export { MIGRATE_VERSION } from './wire.js';
