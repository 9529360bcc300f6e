/** Revocation (docs/protocol.md §10): selectors, the in-memory set checked per request, and its watcher. */
export {
  keyBytesId, revocationSubjectOf, selectorMatches, selectorOfEntry, isKeyIdSelector, isJtiSelector, isSlugSelector, issuedBeforeCutoff,
  type RevocationSelector, type RevocationEntry, type RevocationSubject,
} from './selector.js';
export { RevocationSet } from './set.js';
export { refuseRevoked } from './check.js';
export {
  RevocationWatcher, revocationHintSubject, DEFAULT_REVOCATION_POLL_MS,
  type RevocationSource, type HintBus, type WatcherLog, type RevocationWatcherOptions,
} from './watcher.js';
