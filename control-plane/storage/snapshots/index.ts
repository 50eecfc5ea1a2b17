export {
  defaultSnapshotDir,
  deleteSnapshots,
  listSnapshots,
  pruneSnapshots,
  restoreSqliteSnapshot,
  saveSnapshot,
  snapshotName,
  type SnapshotInfo,
} from './snapshots.ts';
export { checkSnapshotCron, runSnapshotSchedule } from './schedule.ts';
