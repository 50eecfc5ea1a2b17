export {
  defaultSnapshotDir,
  deleteSnapshots,
  listSnapshots,
  pruneSnapshots,
  restoreSqliteSnapshot,
  saveSnapshot,
  type SnapshotInfo,
} from './snapshots.ts';
export { checkSnapshotCron, runSnapshotSchedule } from './schedule.ts';
