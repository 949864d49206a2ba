-- The case list filtered to one butler (GET /api/v1/cases?butler_id=, the
-- supervisor's view of a butler, a butler's own history) reads newest
-- first. Only the butler's open cases had an index, so the list walked the
-- whole table backwards until it had a page: fast for a busy butler, a scan
-- of every case for a new one or for a later page (220 ms on a million
-- cases; see BenchmarkButlerInbox in internal/cases).
CREATE INDEX cases_butler ON cases(butler_id, id, state);
