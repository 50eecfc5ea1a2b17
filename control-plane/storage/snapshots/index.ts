export {
  DEFAULT_SNAPSHOT_NAME,
  defaultSnapshotDir,
  deleteSnapshots,
  listSnapshots,
  pruneSnapshots,
  restoreSqliteSnapshot,
  saveSnapshot,
  type SnapshotInfo,
} from './snapshots.ts';
export { checkSnapshotCron, runSnapshotSchedule } from './schedule.ts';
