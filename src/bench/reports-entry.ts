// The public `dcnet-robustness/reports` entry: rendering from reports/, and writeReport (which
// reads a run folder, so it lives with the bench: bench depends on reports, never the reverse).
export * from '../../reports/index.js';
export { writeReport, type ReportSummary } from './report.js';
